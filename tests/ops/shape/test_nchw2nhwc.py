from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    DTypeError,
    ShapeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of


def run_example(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    got = testing.check_reference(op, list(ex.inputs.values()),
                                  lambda *a: list(ex.outputs.values()), atol=0, rtol=1e-6)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    for s, g in zip(shapes, got):
        assert s.dtype == g.dtype
        assert s.dims is None or all(isinstance(d, str) or d == e
                                     for d, e in zip(s.dims, g.shape))


def backward(op, outputs):
    ops, grads = GradientRegistry.GetBackwardPass([op], {o: o + "_grad" for o in outputs})
    return [(o.type, list(o.input), list(o.output)) for o in ops], grads


SRC, DST = 1, -1  # the axis that moves, and where it goes


def naive(x):
    src = SRC % x.ndim
    dst = DST % x.ndim
    order = [i for i in range(x.ndim) if i != src]
    order.insert(dst, src)
    out = np.empty([x.shape[a] for a in order], x.dtype)
    for index in np.ndindex(*x.shape):
        out[tuple(index[a] for a in order)] = x[index]
    return out


def test_example():
    run_example("NCHW2NHWC")


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=3, max_size=5),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_matches_naive_and_round_trips(shape, dtype):
    x = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    op = CreateOperator("NCHW2NHWC", ["X"], ["Y"])
    got = testing.check_reference(op, [x], lambda x: [naive(x)])
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(got[0].shape, dtype)
    back = CreateOperator("NHWC2NCHW", ["Y"], ["Z"])
    testing.check_reference(back, [got[0]], lambda y: [x])


def test_errors():
    testing.check_raises(CreateOperator("NCHW2NHWC", ["X"], ["Y"]), [np.zeros((2, 3), np.float32)],
                         ShapeError, re.escape("ndim >= 3. 2 vs 3"))
    testing.check_raises(CreateOperator("NCHW2NHWC", ["X"], ["Y"]), [np.zeros((2, 3, 4), np.int32)],
                         DTypeError, "caller expects elements to be float while tensor contains int")
    with pytest.raises(ShapeError, match="Input for NCHW2NHWC must be >= 3 dimensional"):
        infer_op(CreateOperator("NCHW2NHWC", ["X"], ["Y"]), [TensorShape((2, 3), np.float32)])


def test_gradient():
    op = CreateOperator("NCHW2NHWC", ["X"], ["Y"])
    assert backward(op, ["Y"])[0] == [("NHWC2NCHW", ["Y_grad"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(24.0).reshape(2, 3, 4)], 0)
