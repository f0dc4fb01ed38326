"""Expand and ExpandGradient against loops, with the cases of Caffe2's
expand_op_test.py (random shapes, -1 keeping a size)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape

OP = CreateOperator("Expand", ["X", "shape"], ["Y"])


def loop_expand(x, shape):
    """X * ones(|shape|) with -1 (any size <= 0) keeping X's size, element by element."""
    rank = max(len(shape), x.ndim)
    xs = (1,) * (rank - x.ndim) + x.shape
    req = (1,) * (rank - len(shape)) + tuple(int(v) for v in shape)
    out_shape = tuple(max(a, b if b > 0 else 1) for a, b in zip(xs, req))
    xr = x.reshape(xs)
    y = np.empty(out_shape, x.dtype)
    for idx in np.ndindex(*out_shape):
        y[idx] = xr[tuple(0 if a == 1 else i for i, a in zip(idx, xs))]
    return [y]


@settings(max_examples=40, deadline=None)
@given(x_shape=st.lists(st.integers(1, 3), max_size=3), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
def test_matches_loop(x_shape, data, dtype):
    extra = data.draw(st.lists(st.integers(1, 3), max_size=2))
    shape = extra + [data.draw(st.sampled_from([1, d, -1])) for d in x_shape]
    x = np.arange(int(np.prod(x_shape)), dtype=dtype).reshape(x_shape)
    s = np.array(shape, np.int64)
    y = testing.check_reference(OP, [x, s], lambda x, s: loop_expand(x, s), atol=0)[0]
    inferred = infer_op(OP, [TensorShape(x.shape, dtype), TensorShape((len(shape),), np.int64)])
    assert len(inferred[0].dims) == y.ndim
    assert all(isinstance(d, str) or d == e for d, e in zip(inferred[0].dims, y.shape))
    dy = np.ones(y.shape, dtype)
    grad = CreateOperator("ExpandGradient", ["dY", "X"], ["dX"])
    want = np.full(x.shape, y.size // max(x.size, 1), dtype)
    testing.check_reference(grad, [dy, x], lambda *a: [want], atol=0)


def test_caffe2_cases_gradient_ops_and_errors():
    for x in (np.ones([1, 3, 1]), np.ones([3, 1, 3]), np.ones([1, 3])):
        for shape in ([3, 1, 3], [3, -1, 3]):
            s = np.array(shape, np.int64)
            testing.check_reference(OP, [x, s], lambda x, s: loop_expand(x, s))
            testing.check_gradient(OP, [x, s], 0)
    ops, _ = GradientRegistry.GetBackwardPass([OP], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("ExpandGradient", ["Y_grad", "X"], ["X_grad"])]
    x = np.ones((2, 3), np.float32)
    testing.check_raises(OP, [x, np.array([4, 3], np.int64)], EnforceError,
                         "Dimensions format invalid.")
    testing.check_raises(OP, [x, np.array([2, 3], np.int32)], DTypeError,
                         "caller expects elements to be long while tensor contains int")
    testing.check_raises(OP, [x, np.array([2**20, 2**20, 1, 3], np.int64)], EnforceError,
                         "too large")
    testing.check_raises(OP, [np.zeros((0,), np.float32), np.array([1], np.int64)],
                         EnforceError, "empty X")
    grad = CreateOperator("ExpandGradient", ["dY", "X"], ["dX"])
    testing.check_raises(grad, [np.ones((2, 4), np.float32), x], EnforceError,
                         "dY is not X broadcast")


@pytest.mark.parametrize("shape", [[2, 0, 3], [0]])
def test_zero_keeps_the_size(shape):
    x = np.arange(6, dtype=np.float32).reshape(2, 3) if len(shape) == 3 else np.ones(2)
    testing.check_reference(OP, [x, np.array(shape, np.int64)],
                            lambda x, s: loop_expand(x, s))
