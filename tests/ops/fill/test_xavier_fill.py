from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, SchemaError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def run(op, **feeds):
    ws = Workspace()
    for name, value in feeds.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(op)
    return ws.fetch_blob(op.output[0])


def naive_xavier(shape, seed):
    """One float32 draw per element, in row-major order, mapped onto [-s, s)."""
    fan_in = 1
    for d in shape[1:]:
        fan_in *= d
    if fan_in == 0:
        return np.empty(shape, np.float32)
    s = np.float32(np.sqrt(np.float32(3) / np.float32(fan_in)))
    rng = np.random.default_rng(seed)
    out = np.empty(shape, np.float32)
    for idx in np.ndindex(*shape):
        u = rng.random(dtype=np.float32)
        v = np.float32(u * np.float32(s + s)) + np.float32(-s)
        out[idx] = min(v, np.nextafter(s, np.float32(0)))
    return out


@pytest.mark.parametrize("shape", [[3, 3], [5, 4, 2], [7], [2, 1], [3, 0]])
def test_matches_naive_draws(shape):
    y = run(CreateOperator("XavierFill", [], ["Y"], shape=shape, random_seed=5))
    np.testing.assert_array_equal(y, naive_xavier(tuple(shape), 5))
    assert y.dtype == np.float32


def test_seeded_runs_repeat_and_seeds_differ():
    def fill(seed):
        return run(
            CreateOperator("XavierFill", [], ["Y"], shape=[20, 10], random_seed=seed)
        )

    np.testing.assert_array_equal(fill(3), fill(3))
    assert not np.array_equal(fill(3), fill(4))


def test_bounds_and_distribution():
    y = run(CreateOperator("XavierFill", [], ["Y"], shape=[400, 50], random_seed=11))
    scale = np.sqrt(3 / 50)
    assert y.shape == (400, 50) and y.dtype == np.float32
    assert y.min() >= -scale and y.max() < scale
    n = y.size  # 20000 samples of U(-s, s): mean 0, variance s**2 / 3 = 1 / fan_in
    assert abs(y.mean()) < 6 * (scale / np.sqrt(3)) / np.sqrt(n)
    assert abs(y.var() - 1 / 50) < 0.05 * (1 / 50)
    bins = np.histogram(y, bins=10, range=(-scale, scale))[0] / n
    assert np.all(np.abs(bins - 0.1) < 6 * np.sqrt(0.09 / n))


@pytest.mark.parametrize(
    "kwargs, feeds, shape",
    [
        ({}, {"X": np.zeros((4, 3), np.int32)}, (4, 3)),
        ({"extra_shape": [2]}, {"X": np.zeros((5,), np.float64)}, (5, 2)),
        ({"input_as_shape": 1}, {"X": np.array([6, 2], np.int64)}, (6, 2)),
        (
            {"input_as_shape": 1, "extra_shape": [3]},
            {"X": np.array([2], np.int64)},
            (2, 3),
        ),
    ],
)
def test_shape_from_input(kwargs, feeds, shape):
    op = CreateOperator("XavierFill", list(feeds), ["Y"], random_seed=1, **kwargs)
    y = run(op, **feeds)
    assert y.shape == shape and y.dtype == np.float32
    scale = np.sqrt(3 / (np.prod(shape) // shape[0]))
    assert np.all(np.abs(y) <= scale)
    (inferred,) = infer_op(op, [shape_of(v) for v in feeds.values()])
    assert inferred.dtype == np.float32 and inferred.ndim == len(shape)
    if not kwargs.get("input_as_shape"):
        assert inferred.dims == shape


def test_in_place_on_the_shape_input():
    y = run(CreateOperator("XavierFill", ["X"], ["X"]), X=np.zeros((2, 3), np.int64))
    assert y.shape == (2, 3) and y.dtype == np.float32


def test_example_and_shape_function():
    ex = registry.lookup("XavierFill").example
    assert not ex.exact
    op = CreateOperator("XavierFill", [], ["output"], **ex.args)
    y = run(op)
    want = ex.outputs["output"]
    assert (y.shape, y.dtype) == (want.shape, want.dtype)
    assert infer_op(op, []) == [shape_of(want)]
    fn = registry.lookup("XavierFill").shape
    assert fn(TensorShape(None), shape=[], extra_shape=[], input_as_shape=False) == (
        TensorShape(None, np.float32),
    )
    assert fn(
        TensorShape((3,), np.int64), shape=[], extra_shape=[7], input_as_shape=True
    ) == (TensorShape(("input[0]", "input[1]", "input[2]", 7), np.float32),)


def test_errors():
    check_raises(
        CreateOperator("XavierFill", [], ["Y"], shape=[]),
        [],
        ShapeError,
        "at least 1 dimension",
    )
    check_raises(
        CreateOperator("XavierFill", [], ["Y"], shape=[0, 3]),
        [],
        ShapeError,
        r"undefined when shape\[0\] is 0",
    )
    check_raises(
        CreateOperator("XavierFill", [], ["Y"], shape=32),
        [],
        ArgumentError,
        "Fill 'shape' argument was a scalar, list expected",
    )
    check_raises(
        CreateOperator("XavierFill", ["X"], ["Y"], shape=[2]),
        [np.zeros(2)],
        ArgumentError,
        "Cannot set the shape argument and pass in an input",
    )
    check_raises(
        CreateOperator("XavierFill", [], ["Y"], shape=[2], extra_shape=[2]),
        [],
        ArgumentError,
        "Cannot set extra_shape when there is no input",
    )
    check_raises(
        CreateOperator("XavierFill", ["X"], ["Y"], input_as_shape=1),
        [np.array([2, 3], np.int32)],
        EnforceError,
        "caller expects elements to be long",
    )
    check_raises(
        CreateOperator("XavierFill", ["X", "Z"], ["Y"]),
        [np.zeros(2)] * 2,
        SchemaError,
        "Input size 2 not in range",
    )


def test_no_gradient():
    assert registry.gradient_entry("XavierFill").kind == registry.NO_GRADIENT
    _ops, grads = GradientRegistry.GetBackwardPass(
        [CreateOperator("XavierFill", ["X"], ["Y"])], {"Y": "Y_grad"}
    )
    assert grads.get("X") is None
