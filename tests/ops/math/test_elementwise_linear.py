"""ElementwiseLinear and ElementwiseLinearGradient: Y = X * w + b row by row against
naive loops, the axis argument, Caffe2's messages, numeric gradients and the exact
gradient op."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive(x, w, b, axis):
    n = int(np.prod(x.shape[:axis]))
    d = int(np.prod(x.shape[axis:]))
    flat = x.reshape(n, d)
    out = np.empty((n, d), x.dtype)
    for i in range(n):
        for j in range(d):
            out[i, j] = flat[i, j] * w[j] + b[j]
    return [out.reshape(x.shape)]


def naive_gradient(dy, x, w, axis):
    n = int(np.prod(x.shape[:axis]))
    d = int(np.prod(x.shape[axis:]))
    g, xf = dy.reshape(n, d), x.reshape(n, d)
    dx = np.empty((n, d), x.dtype)
    dw, db = np.zeros(d, x.dtype), np.zeros(d, x.dtype)
    for i in range(n):
        for j in range(d):
            dx[i, j] = g[i, j] * w[j]
            dw[j] += g[i, j] * xf[i, j]
            db[j] += g[i, j]
    return [dx.reshape(x.shape), dw, db]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loops(shape, data, dtype, seed):
    axis = data.draw(st.integers(0, len(shape) - 1))  # Caffe2 wants axis < ndim
    d = int(np.prod(shape[axis:]))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    w, b = rng.standard_normal(d).astype(dtype), rng.standard_normal(d).astype(dtype)
    op = CreateOperator("ElementwiseLinear", ["X", "w", "b"], ["Y"], axis=axis)
    testing.check_reference(op, [x, w, b], lambda x, w, b: naive(x, w, b, axis), atol=1e-6)
    dy = rng.standard_normal(shape).astype(dtype)
    grad = CreateOperator("ElementwiseLinearGradient", ["dY", "X", "w"], ["dX", "dw", "db"],
                          axis=axis)
    testing.check_reference(grad, [dy, x, w], lambda dy, x, w: naive_gradient(dy, x, w, axis),
                            atol=1e-5)


def test_negative_axis_and_default():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    w, b = np.arange(2, dtype=np.float32), np.ones(2, np.float32)
    testing.check_reference(CreateOperator("ElementwiseLinear", ["X", "w", "b"], ["Y"],
                                           axis=-1), [x, w, b],
                            lambda x, w, b: naive(x, w, b, 2))
    w6, b6 = np.arange(6, dtype=np.float32), np.zeros(6, np.float32)
    testing.check_reference(CreateOperator("ElementwiseLinear", ["X", "w", "b"], ["Y"]),
                            [x, w6, b6], lambda x, w, b: naive(x, w, b, 1))


def test_errors():
    op = CreateOperator("ElementwiseLinear", ["X", "w", "b"], ["Y"])
    x = np.ones((2, 3), np.float32)
    v = np.ones(3, np.float32)
    testing.check_raises(op, [x, np.ones((1, 3), np.float32), v], ShapeError,
                         re.escape("a.dim() == 1. 2 vs 1. 2"))
    testing.check_raises(op, [x, np.ones(4, np.float32), v], ShapeError,
                         re.escape("a.size(0) == D. 4 vs 3. 1"))
    testing.check_raises(op, [x, v, np.ones(2, np.float32)], ShapeError,
                         re.escape("b.size(0) == D. 2 vs 3. 1"))
    testing.check_raises(op, [x, v, v.astype(np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(CreateOperator("ElementwiseLinear", ["X", "w", "b"], ["Y"], axis=3),
                         [x, v, v], ShapeError, re.escape("axis_index < ndims. 3 vs 2"))
    grad = CreateOperator("ElementwiseLinearGradient", ["dY", "X", "w"], ["dX", "dw", "db"])
    testing.check_raises(grad, [np.ones((3, 2), np.float32), x, v], ShapeError,
                         re.escape("dY.sizes() == X.sizes()"))


def test_numeric_gradient_and_ops_list():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 2)), rng.standard_normal(2), rng.standard_normal(2)
    op = CreateOperator("ElementwiseLinear", ["X", "w", "b"], ["Y"], axis=2)
    testing.check_gradient(op, [x, w, b], [0, 1, 2])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("ElementwiseLinearGradient", ["Y_grad", "X", "w"],
                          ["X_grad", "w_grad", "b_grad"], axis=2)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
