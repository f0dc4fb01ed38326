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


def naive_softmax(x, axis=1):
    ax = axis + x.ndim if axis < 0 else axis
    n, d = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax:]))
    flat = x.reshape(n, d).tolist()
    out = []
    for row in flat:
        top = max(row) if row else 0.0
        e = [math.exp(v - top) for v in row]
        s = sum(e)
        out.append([v / s for v in e])
    return [np.array(out, dtype=x.dtype).reshape(x.shape)]


def naive_softmax_gradient(y, dy, axis=1):
    ax = axis + y.ndim if axis < 0 else axis
    n, d = int(np.prod(y.shape[:ax])), int(np.prod(y.shape[ax:]))
    ys, gs = y.reshape(n, d).tolist(), dy.reshape(n, d).tolist()
    out = []
    for yr, gr in zip(ys, gs):
        dot = sum(a * b for a, b in zip(yr, gr))
        out.append([a * (b - dot) for a, b in zip(yr, gr)])
    return [np.array(out, dtype=y.dtype).reshape(y.shape)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, data, dtype, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    x = np.asarray(3 * rng.standard_normal(shape), dtype=dtype)
    op = CreateOperator("Softmax", ["X"], ["Y"], axis=axis)
    y = testing.check_reference(op, [x], lambda v: naive_softmax(v, axis), atol=1e-6)[0]
    dy = rng.standard_normal(shape).astype(dtype)
    grad = CreateOperator("SoftmaxGradient", ["Y", "dY"], ["dX"], axis=axis)
    testing.check_reference(grad, [y, dy], lambda *a: naive_softmax_gradient(*a, axis),
                            atol=1e-6)


def test_large_values_are_stable():
    x = np.array([[1000.0, 1000.0], [-1000.0, 0.0]], np.float32)
    testing.check_reference(CreateOperator("Softmax", ["X"], ["Y"]), [x],
                            lambda v: [np.array([[0.5, 0.5], [0.0, 1.0]], np.float32)])


def test_errors():
    op = CreateOperator("Softmax", ["X"], ["Y"])
    testing.check_raises(op, [np.ones(3, np.float32)], ShapeError,
                         re.escape("axis_index < ndims. 1 vs 1"))
    testing.check_raises(op, [np.ones((2, 2), np.int32)], DTypeError,
                         "caller expects elements to be float while tensor contains int")
    testing.check_raises(CreateOperator("Softmax", ["X"], ["X"]), [np.ones((1, 2), np.float32)],
                         SchemaError, "in-place")
    testing.check_raises(CreateOperator("SoftmaxGradient", ["Y", "dY"], ["dX"]),
                         [np.ones((2, 2), np.float32), np.ones((2, 3), np.float32)],
                         ShapeError, re.escape("Y.sizes() == dY.sizes()"))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_numeric_gradient(axis):
    x = np.random.default_rng(axis + 5).standard_normal((2, 3, 2))
    testing.check_gradient(CreateOperator("Softmax", ["X"], ["Y"], axis=axis), [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("Softmax", ["X"], ["Y"], axis=0)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("SoftmaxGradient", ["Y", "Y_grad"], ["X_grad"], axis=0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_inference():
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    x = TensorShape(("N", 3), np.float64)
    op = CreateOperator("Softmax", ["X"], ["Y"])
    assert infer_op(op, [x]) == [x]
    grad = CreateOperator("SoftmaxGradient", ["Y", "dY"], ["dX"])
    assert infer_op(grad, [x, x]) == [x]
    # Caffe2 gave Softmax no cost function: the generic estimate
    known = TensorShape((2, 3), np.float64)
    assert op_cost(op, [known]) == Cost(6, 48, 48, 0)
