from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive_l1(x, y):
    n = x.shape[0] if x.ndim else 1
    xf, yf = x.reshape(-1).tolist(), y.reshape(-1).tolist()
    d = len(xf) // n if n else 0
    return [np.array([sum(abs(xf[i * d + j] - yf[i * d + j]) for j in range(d))
                      for i in range(n)], x.dtype)]


def naive_l1_gradient(x, y, dd):
    n = x.shape[0] if x.ndim else 1
    d = x.size // n if n else 0
    xf, yf = x.reshape(-1).tolist(), y.reshape(-1).tolist()
    dx = []
    for i in range(n):
        for j in range(d):
            t = xf[i * d + j] - yf[i * d + j]
            dx.append(dd[i] if t > 1e-12 else -dd[i] if t < -1e-12 else 0.0)
    dx = np.array(dx, x.dtype).reshape(x.shape)
    return [dx, -dx]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    # distance_op_test.py: test_L1_distance
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype)
    op = CreateOperator("L1Distance", ["X", "Y"], ["Z"])
    z = testing.check_reference(op, [x, y], naive_l1, atol=1e-5)[0]
    dd = np.asarray(rng.standard_normal(z.shape), dtype=dtype)
    grad = CreateOperator("L1DistanceGradient", ["X", "Y", "dD"], ["dX", "dY"])
    testing.check_reference(grad, [x, y, dd], naive_l1_gradient)


def test_errors():
    op = CreateOperator("L1Distance", ["X", "Y"], ["Z"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(6, np.float32)], ShapeError,
                         re.escape("X.dim() == Y.dim(). 2 vs 1"))
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)],
                         ShapeError, re.escape("X.dim32(i) == Y.dim32(i). 3 vs 4"))
    testing.check_raises(op, [np.ones(2, np.int32), np.ones(2, np.int32)], DTypeError,
                         "tensor contains int")
    grad = CreateOperator("L1DistanceGradient", ["X", "Y", "dD"], ["dX", "dY"])
    ones = np.ones((2, 3), np.float32)
    testing.check_raises(grad, [ones, ones, np.ones((2, 1), np.float32)], ShapeError,
                         re.escape("dDistance.dim() == 1"))
    testing.check_raises(grad, [ones, ones, np.ones(1, np.float32)], ShapeError,
                         re.escape("dDistance.dim32(0) == N"))


def test_numeric_gradient():
    rng = np.random.default_rng(8)
    for shape in [(3, 4), (5,), (2, 2, 3)]:
        x, y = rng.standard_normal(shape), rng.standard_normal(shape)
        testing.check_gradient(CreateOperator("L1Distance", ["X", "Y"], ["Z"]), [x, y], [0, 1])


def test_gradient_ops_list():
    op = CreateOperator("L1Distance", ["X", "Y"], ["Z"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Z": "Z_grad"})
    want = CreateOperator("L1DistanceGradient", ["X", "Y", "Z_grad"], ["X_grad", "Y_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
