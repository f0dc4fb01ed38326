"""The ONNX tests need the onnx package (the ``onnx`` extra); those that run the
exported model need onnxruntime too. ``export_and_compare`` exports a net, checks the
model fully and compares onnxruntime's outputs with caffe2lite's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from c2l_test_support.nets import run_net_outputs

# Each test module skips itself (pytest.importorskip) where onnx is missing, so that
# `pytest tests/onnx_convert` reports the skips instead of failing in this file.


run_caffe2lite = run_net_outputs


def run_onnxruntime(model: Any, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    wanted = {i.name for i in session.get_inputs()}
    return session.run(None, {k: v for k, v in inputs.items() if k in wanted})


def compare(
    model: Any,
    net: Any,
    init: Any,
    inputs: dict[str, np.ndarray],
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> list[np.ndarray]:
    want = run_caffe2lite(net, init, inputs)
    got = run_onnxruntime(model, inputs)
    assert len(got) == len(want)
    for name, g, w in zip(net.external_output, got, want):
        assert g.shape == w.shape, (name, g.shape, w.shape)
        assert g.dtype == w.dtype, (name, g.dtype, w.dtype)
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=name)
        else:
            np.testing.assert_array_equal(g, w, err_msg=name)
    return got


@pytest.fixture
def export_and_compare() -> Callable[..., Any]:
    """``f(net, inputs, init=None, opset=None, rtol=1e-4, atol=1e-5)``: the exported
    model, after checking it matches caffe2lite under onnxruntime. ``net`` and
    ``init`` are core.Nets or NetDefs; ``inputs`` feed the graph inputs and give
    their shapes and types."""
    from caffe2lite.onnx import export
    from caffe2lite.schema.shapes import TensorShape

    def run(net, inputs, init=None, opset=None, rtol=1e-4, atol=1e-5, value_info=None):
        net = net.Proto() if hasattr(net, "Proto") else net
        init = init.Proto() if hasattr(init, "Proto") else init
        if value_info is None:
            value_info = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()}
        kwargs = {} if opset is None else {"opset_version": opset}
        model = export(net, init, value_info, **kwargs)
        compare(model, net, init, inputs, rtol, atol)
        return model

    return run


@pytest.fixture
def onnx_tools() -> Any:
    """The helpers above, for tests that need them directly."""
    import types

    return types.SimpleNamespace(
        compare=compare, run_caffe2lite=run_caffe2lite, run_onnxruntime=run_onnxruntime
    )
