"""Shared fixtures: test-only operators and gradients, registered for one test and
removed after it."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest
from c2l_test_support.gradients import MAKERS

from caffe2lite.schema import registry
from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.core import GradientRegistry
from caffe2lite.schema.opschema import Arg


@pytest.fixture
def scratch_ops() -> Iterator[None]:
    """Register a few tiny ops (with docs and gradient decisions) for the duration."""
    before_ops, before_grads = dict(registry.OPERATORS), dict(registry.GRADIENTS)

    @registry.register_cpu_operator(
        "TestScale", inputs=["X"], outputs=["Y"],
        args=[Arg("scale", float, 1.0), Arg("offset", int, 0)],
        allow_inplace=[(0, 0)], doc="Y = X * scale + offset. Example: X=[1, 2] -> Y=[2, 4]")
    def test_scale(x, *, scale, offset):
        return (x * scale + offset,)

    @registry.register_cpu_operator(
        "TestNoise", inputs=["X"], outputs=["Y"], args=[Arg("ratio", float, 0.5,
        check=lambda r: 0.0 <= r <= 1.0, check_message="Ratio should be a valid probability",
        expected="0 <= ratio <= 1")],
        doc="Y = X + uniform noise * ratio. Example: X=[0] -> Y=[0.3]")
    def test_noise(x, *, ratio, rng):
        return (x + ratio * rng.random(x.shape),)

    @registry.register_cpu_operator(
        "TestCheck", inputs=["X", "Lengths"], outputs=["Y"],
        doc="Y = X if sum(Lengths) == len(X). Example: X=[1], Lengths=[1] -> Y=[1]")
    def test_check(x, lengths):
        check_dtype(lengths, "Lengths", np.int32)
        enforce(lengths.sum() == x.size, "Inconsistent input data.",
                blob="Lengths", expected=x.size, found=int(lengths.sum()))
        return (x,)

    @registry.register_cpu_operator(
        "TestBroken", inputs=["X"], outputs=["Y"], doc="Always fails. Example: X=[1] -> error")
    def test_broken(x):
        return (np.reshape(x, (7, 7)),)

    @registry.register_cpu_operator(
        "TestVariadic", inputs=["X"], outputs=["Y"], num_inputs=(1, None),
        doc="Y = sum of the inputs. Example: [1], [2] -> [3]")
    def test_variadic(*xs):
        return (sum(xs[1:], xs[0]),)

    for t in ("TestScale", "TestNoise", "TestCheck", "TestBroken", "TestVariadic"):
        registry.no_gradient(t)
    try:
        yield
    finally:
        registry.OPERATORS.clear()
        registry.OPERATORS.update(before_ops)
        registry.GRADIENTS.clear()
        registry.GRADIENTS.update(before_grads)


@pytest.fixture
def isolated_registries() -> Iterator[None]:
    """Register gradients (and forward ops) for one test only."""
    saved = (
        dict(registry.OPERATORS),
        dict(registry.GRADIENTS),
        dict(GradientRegistry.gradient_registry_),
    )
    try:
        yield
    finally:
        for live, old in zip(
            (
                registry.OPERATORS,
                registry.GRADIENTS,
                GradientRegistry.gradient_registry_,
            ),
            saved,
        ):
            live.clear()
            live.update(old)


@pytest.fixture
def python_gradients(isolated_registries) -> None:
    """The made-up Python gradients of ``c2l_test_support.gradients.MAKERS`` (Direct,
    UseInput, UseOutput, Nogradient, ...), registered for one test only."""
    for op_type, maker in MAKERS.items():
        GradientRegistry.RegisterGradient(op_type)(maker)


@pytest.fixture
def files(tmp_path):
    """Write ``name -> text`` files under tmp_path (``net_pbtxt`` as ``net.pbtxt``);
    returns their paths as str."""

    def write(**texts: str) -> dict[str, str]:
        paths = {}
        for name, text in texts.items():
            path = tmp_path / name.replace("_pbtxt", ".pbtxt")
            path.write_text(text)
            paths[name] = str(path)
        return paths

    return write


@pytest.fixture(params=["compiled", "numpy"])
def dropout_kernels(request, monkeypatch) -> str:
    """Run a test once with the compiled dropout kernels (skipped when the module is
    not built) and once with the numpy ones."""
    from caffe2lite.ops import _speedups

    if request.param == "numpy":
        monkeypatch.setattr(_speedups, "native", None)
    elif _speedups.native is None:
        pytest.skip(_speedups.status)
    return request.param
