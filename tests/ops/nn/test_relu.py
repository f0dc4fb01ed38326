from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
from caffe2lite.workspace import Workspace


def naive_relu(x):
    out = np.array([v if v > 0 or math.isnan(v) else 0.0 for v in x.reshape(-1).tolist()],
                   dtype=x.dtype)
    return [out.reshape(x.shape)]


def naive_relu_gradient(y, dy):
    out = [g if v > 0 else 0.0 for v, g in zip(y.reshape(-1).tolist(), dy.reshape(-1).tolist())]
    return [np.array(out, dtype=y.dtype).reshape(y.shape)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_forward_and_gradient_op_match_naive_loops(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    testing.check_reference(CreateOperator("Relu", ["X"], ["Y"]), [x], naive_relu, atol=0)
    y = naive_relu(x)[0]
    dy = rng.standard_normal(shape).astype(dtype)
    testing.check_reference(CreateOperator("ReluGradient", ["Y", "dY"], ["dX"]), [y, dy],
                            naive_relu_gradient, atol=0)


def test_nan_and_zero():
    x = np.array([np.nan, -0.0, 0.0, -1.0, 3.0], np.float32)
    testing.check_reference(CreateOperator("Relu", ["X"], ["Y"]), [x], naive_relu)


def test_in_place():
    ws = Workspace()
    ws.feed_blob("X", np.array([-1, 2], np.float32))
    ws.run_operator_once(CreateOperator("Relu", ["X"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [0, 2])
    ws.feed_blob("dX", np.array([5, 6], np.float32))
    ws.run_operator_once(CreateOperator("ReluGradient", ["X", "dX"], ["dX"]))
    np.testing.assert_array_equal(ws.fetch_blob("dX"), [0, 6])
    testing.check_raises(CreateOperator("ReluGradient", ["Y", "dY"], ["Y"]),
                         [np.ones(2, np.float32)] * 2, SchemaError, "in-place")


def test_errors():
    testing.check_raises(CreateOperator("Relu", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    op = CreateOperator("ReluGradient", ["Y", "dY"], ["dX"])
    testing.check_raises(op, [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("Y.sizes() == dY.sizes()"))
    testing.check_raises(op, [np.ones(2, np.float32), np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")


def test_numeric_gradient():
    x = np.array([[-1.3, 0.4, 2.0], [0.7, -0.2, -3.0]])
    testing.check_gradient(CreateOperator("Relu", ["X"], ["Y"]), [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("Relu", ["X"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("ReluGradient", ["Y", "Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"


def test_gradient_op_shape_function_and_example():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.registry import lookup
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("ReluGradient", ["Y", "dY"], ["dX"])
    f4 = np.dtype(np.float32)
    # dX takes dY's shape and type (Caffe2's IdenticalTypeAndShapeOfInput(1))
    assert infer_op(op, [TensorShape((2, 3), f4), TensorShape((2, 3), f4)]) == [
        TensorShape((2, 3), f4)]
    assert infer_op(op, [TensorShape(), TensorShape(("n", 4), f4)]) == [
        TensorShape(("n", 4), f4)]
    ex = lookup("ReluGradient").example
    testing.check_reference(op, list(ex.inputs.values()),
                            naive_relu_gradient, atol=0)
    np.testing.assert_array_equal(naive_relu_gradient(*ex.inputs.values())[0], ex.outputs["dX"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1023,), (32, 32), (3, 1000), (5000,)])
def test_sizes_around_the_zero_buffer(shape, dtype):
    """From 1024 elements Relu compares with a shared zero buffer: the same values
    as the naive loop (NaN stays NaN, -0 and infinities) at every size, the buffer
    never changed, the input never changed."""
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, -1.0]
    testing.check_reference(CreateOperator("Relu", ["X"], ["Y"]), [x], naive_relu, atol=0)
    big = rng.standard_normal(2 * x.size).astype(dtype)
    testing.check_reference(CreateOperator("Relu", ["X"], ["Y"]), [big], naive_relu, atol=0)
    testing.check_reference(CreateOperator("Relu", ["X"], ["Y"]), [x], naive_relu, atol=0)


def test_non_contiguous_input():
    x = np.random.default_rng(2).standard_normal((64, 40)).astype(np.float32)
    for view in (x.T, x[:, ::2], x[::-1]):
        testing.check_reference(CreateOperator("Relu", ["X"], ["Y"]), [view], naive_relu,
                                atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_the_bits_of_dy_where_y_is_positive(dtype):
    """ReluGradient selects with a bit mask: dY's exact bits where Y > 0 (NaN, inf,
    -0 included), +0 elsewhere (also where Y is NaN, -0 or dY is NaN)."""
    y = np.array([1, 2, 0, -0.0, np.nan, 3, np.inf, -1, 4, 0], dtype)
    dy = np.array([np.nan, -0.0, np.inf, -5, 7, np.inf, -2, np.nan, 1e-45, -3], dtype)
    ws = Workspace()
    ws.feed_blob("Y", y)
    ws.feed_blob("dY", dy)
    ws.run_operator_once(CreateOperator("ReluGradient", ["Y", "dY"], ["dX"]))
    got = ws.fetch_blob("dX")
    want = np.where(y > 0, dy, dtype(0))
    assert got.dtype == dtype
    assert got.tobytes() == want.tobytes()
    for view in (np.zeros((3, 4), dtype).T, ):  # non-contiguous dY and Y
        yy = np.arange(12, dtype=dtype).reshape(4, 3) - 5
        testing.check_reference(CreateOperator("ReluGradient", ["Y", "dY"], ["dX"]),
                                [yy, view + 1], naive_relu_gradient, atol=0)
    testing.check_reference(CreateOperator("ReluGradient", ["Y", "dY"], ["dX"]),
                            [np.array(2.0, dtype), np.array(3.0, dtype)],
                            naive_relu_gradient, atol=0)
