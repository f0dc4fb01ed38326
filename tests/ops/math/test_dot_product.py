from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive_dot(x, y):
    """Sum of products row by row; an empty X has no rows (Caffe2's N = 0)."""
    if x.size == 0:
        return [np.zeros(0, x.dtype)]
    n = x.shape[0] if x.ndim else 1
    xf, yf = x.reshape(-1).tolist(), y.reshape(-1).tolist()
    d = len(xf) // n
    return [np.array([sum(xf[i * d + j] * yf[i * d + j] for j in range(d)) for i in range(n)],
                     dtype=x.dtype)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype)
    z = testing.check_reference(CreateOperator("DotProduct", ["X", "Y"], ["Z"]), [x, y],
                                naive_dot, atol=1e-5)[0]
    dz = np.asarray(rng.standard_normal(z.shape), dtype=dtype)
    n = z.shape[0]
    d = x.size // n if n else 0

    def naive_grad(x, y, dz):
        xf, yf = x.reshape(-1), y.reshape(-1)
        dx, dy = np.zeros(x.size, dtype), np.zeros(y.size, dtype)
        for i in range(n):
            for j in range(d):
                dx[i * d + j] = dz[i] * yf[i * d + j]
                dy[i * d + j] = dz[i] * xf[i * d + j]
        return [dx.reshape(x.shape), dy.reshape(y.shape)]

    testing.check_reference(CreateOperator("DotProductGradient", ["X", "Y", "dZ"], ["dX", "dY"]),
                            [x, y, dz], naive_grad, atol=1e-6)


def test_glow_shapes_1d_and_2d():
    x, y = np.arange(10, dtype=np.float32), np.full(10, 2, np.float32)
    z = testing.check_reference(CreateOperator("DotProduct", ["X", "Y"], ["Z"]), [x, y],
                                naive_dot)[0]
    assert z.shape == (10,)
    x2 = np.ones((10, 20), np.float32)
    z2 = testing.check_reference(CreateOperator("DotProduct", ["X", "Y"], ["Z"]), [x2, x2],
                                 naive_dot)[0]
    assert z2.shape == (10,)


def test_errors():
    op = CreateOperator("DotProduct", ["X", "Y"], ["Z"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(6, np.float32)], ShapeError,
                         re.escape("X.dim() == Y.dim(). 2 vs 1"))
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)],
                         ShapeError, re.escape("X.dim32(i) == Y.dim32(i). 3 vs 4. dimension at 1"))
    testing.check_raises(op, [np.ones(2, np.int32), np.ones(2, np.int32)], DTypeError,
                         "caller expects elements to be float while tensor contains int")
    grad = CreateOperator("DotProductGradient", ["X", "Y", "dZ"], ["dX", "dY"])
    ones = np.ones((2, 3), np.float32)
    testing.check_raises(grad, [ones, ones, np.ones((2, 1), np.float32)], ShapeError,
                         re.escape("dDot.dim() == 1"))
    testing.check_raises(grad, [ones, ones, np.ones(3, np.float32)], ShapeError,
                         re.escape("dDot.dim32(0) == N"))
    testing.check_raises(grad, [ones, np.ones((3, 2), np.float32), np.ones(2, np.float32)],
                         ShapeError, re.escape("X.dim32(0) == Y.dim32(0)"))


def test_numeric_gradient():
    rng = np.random.default_rng(8)
    for shape in [(3, 4), (5,), (2, 2, 3)]:
        x, y = rng.standard_normal(shape), rng.standard_normal(shape)
        testing.check_gradient(CreateOperator("DotProduct", ["X", "Y"], ["Z"]), [x, y], [0, 1])


def test_gradient_ops_list():
    ops, _ = GradientRegistry.GetBackwardPass([CreateOperator("DotProduct", ["X", "Y"], ["Z"])],
                                              {"Z": "Z_grad"})
    want = CreateOperator("DotProductGradient", ["X", "Y", "Z_grad"], ["X_grad", "Y_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_and_cost_inference():
    from caffe2lite.inference import infer_op, op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("DotProduct", ["X", "Y"], ["Z"])
    x = TensorShape((3, 4), f4)
    assert infer_op(op, [x, x]) == [TensorShape((3,), f4)]
    assert infer_op(op, [TensorShape((), f4)] * 2) == [TensorShape((1,), f4)]
    assert infer_op(op, [TensorShape((3, 0), f4)] * 2) == [TensorShape((0,), f4)]
    assert infer_op(op, [TensorShape(("N", 2), f4)] * 2) == [TensorShape(("N",), f4)]
    # two flops per element of X, X and Y read, N outputs of four bytes written
    assert op_cost(op, [x, x]) == Cost(24, 96, 12, 0)
    grad = CreateOperator("DotProductGradient", ["X", "Y", "dZ"], ["dX", "dY"])
    assert infer_op(grad, [x, x, TensorShape((3,), f4)]) == [x, x]
