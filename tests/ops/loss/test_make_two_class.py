from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive_two_class(x):
    flat = x.reshape(-1).tolist()
    out = []
    for p in flat:
        out.extend([1 - p, p])
    return [np.array(out, x.dtype).reshape(x.shape + (2,))]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    # cross_entropy_ops_test.py: test_make_two_class
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.uniform(0, 1, shape), dtype=dtype)
    op = CreateOperator("MakeTwoClass", ["X"], ["Y"])
    testing.check_reference(op, [x], naive_two_class)
    dy = np.asarray(rng.standard_normal(tuple(shape) + (2,)), dtype=dtype)
    grad = CreateOperator("MakeTwoClassGradient", ["dY"], ["dX"])
    want = np.array([b - a for a, b in dy.reshape(-1, 2).tolist()], dtype).reshape(shape)
    testing.check_reference(grad, [dy], lambda dy: [want])


def test_errors():
    grad = CreateOperator("MakeTwoClassGradient", ["dY"], ["dX"])
    testing.check_raises(grad, [np.ones((2, 3), np.float32)], ShapeError,
                         re.escape("shape.back() == 2. 3 vs 2"))
    testing.check_raises(grad, [np.array(1.0, np.float32)], ShapeError,
                         re.escape("shape.size() >= 1. 0 vs 1"))
    op = CreateOperator("MakeTwoClass", ["X"], ["Y"])
    testing.check_raises(op, [np.ones(2, np.int32)], DTypeError, "tensor contains int")


def test_numeric_gradient():
    x = np.random.default_rng(3).uniform(0, 1, (3, 2))
    testing.check_gradient(CreateOperator("MakeTwoClass", ["X"], ["Y"]), [x], [0])


def test_gradient_ops_list():
    op = CreateOperator("MakeTwoClass", ["X"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("MakeTwoClassGradient", ["Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
