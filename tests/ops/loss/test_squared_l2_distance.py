from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive_distance(x, y):
    n = x.shape[0] if x.ndim else 1
    xf, yf = x.reshape(-1).tolist(), y.reshape(-1).tolist()
    d = len(xf) // n if n else 0
    out = []
    for i in range(n):
        out.append(0.5 * sum((xf[i * d + j] - yf[i * d + j]) ** 2 for j in range(d)))
    return [np.array(out, dtype=x.dtype)]


def naive_gradient(x, y, dz):
    n = x.shape[0] if x.ndim else 1
    d = x.size // n if n else 0
    xf, yf = x.reshape(-1).tolist(), y.reshape(-1).tolist()
    dx = [dz[i] * (xf[i * d + j] - yf[i * d + j]) for i in range(n) for j in range(d)]
    dx = np.array(dx, dtype=x.dtype).reshape(x.shape)
    return [dx, -dx]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype)
    op = CreateOperator("SquaredL2Distance", ["X", "Y"], ["Z"])
    z = testing.check_reference(op, [x, y], naive_distance, atol=1e-5)[0]
    dz = np.asarray(rng.standard_normal(z.shape), dtype=dtype)
    grad = CreateOperator("SquaredL2DistanceGradient", ["X", "Y", "dZ"], ["dX", "dY"])
    testing.check_reference(grad, [x, y, dz], naive_gradient, atol=1e-6)


def test_scalar_and_empty_rows():
    op = CreateOperator("SquaredL2Distance", ["X", "Y"], ["Z"])
    testing.check_reference(op, [np.array(3.0), np.array(1.0)], lambda *v: [np.array([2.0])])
    testing.check_reference(op, [np.zeros((3, 0), np.float32)] * 2,
                            lambda *v: [np.zeros(3, np.float32)])


def test_errors():
    op = CreateOperator("SquaredL2Distance", ["X", "Y"], ["Z"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(6, np.float32)], ShapeError,
                         re.escape("X.dim() == Y.dim(). 2 vs 1"))
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)],
                         ShapeError, re.escape("X.dim32(i) == Y.dim32(i). 3 vs 4"))
    testing.check_raises(op, [np.ones(2, np.float64), np.ones(2, np.float32)], DTypeError,
                         "caller expects elements to be double while tensor contains float")
    grad = CreateOperator("SquaredL2DistanceGradient", ["X", "Y", "dZ"], ["dX", "dY"])
    ones = np.ones((2, 3), np.float32)
    testing.check_raises(grad, [ones, ones, np.ones((2, 1), np.float32)], ShapeError,
                         re.escape("dDistance.dim() == 1"))
    testing.check_raises(grad, [ones, ones, np.ones(1, np.float32)], ShapeError,
                         re.escape("dDistance.dim32(0) == N"))


def test_numeric_gradient():
    rng = np.random.default_rng(9)
    for shape in [(3, 4), (5,), (2, 2, 3)]:
        x, y = rng.standard_normal(shape), rng.standard_normal(shape)
        testing.check_gradient(CreateOperator("SquaredL2Distance", ["X", "Y"], ["Z"]), [x, y],
                               [0, 1])


def test_gradient_ops_list():
    op = CreateOperator("SquaredL2Distance", ["X", "Y"], ["Z"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Z": "Z_grad"})
    want = CreateOperator("SquaredL2DistanceGradient", ["X", "Y", "Z_grad"],
                          ["X_grad", "Y_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4 = np.dtype(np.float32)
    op = CreateOperator("SquaredL2Distance", ["X", "Y"], ["Z"])
    x = TensorShape(("N", 3), f4)
    assert infer_op(op, [x, x]) == [TensorShape(("N",), f4)]
    assert infer_op(op, [TensorShape((), f4)] * 2) == [TensorShape((1,), f4)]
    grad = CreateOperator("SquaredL2DistanceGradient", ["X", "Y", "dZ"], ["dX", "dY"])
    assert infer_op(grad, [x, x, TensorShape(("N",), f4)]) == [x, x]
