from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
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


def test_example():
    run_example("FlattenToVec")


@settings(max_examples=20, deadline=None)
@given(dims=st.lists(st.integers(0, 3), min_size=1, max_size=4))
def test_matches_naive(dims):
    x = np.arange(int(np.prod(dims)), dtype=np.int64).reshape(dims)
    want = np.array([v for v in np.nditer(x)], np.int64) if x.size else np.zeros(0, np.int64)
    op = CreateOperator("FlattenToVec", ["X"], ["Y"])
    testing.check_reference(op, [x], lambda x: [want])
    assert infer_op(op, [shape_of(x)])[0] == TensorShape((x.size,), np.int64)


def test_scalar_is_rejected():
    testing.check_raises(CreateOperator("FlattenToVec", ["X"], ["Y"]), [np.array(1.0)],
                         ShapeError, re.escape("input.dim() >= 1. 0 vs 1. The rank of the "
                                               "tensor must be >= 1."))


def test_gradient():
    op = CreateOperator("FlattenToVec", ["X"], ["Y"])
    assert backward(op, ["Y"])[0] == [("ResizeLike", ["Y_grad", "X"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(6.0).reshape(2, 3)], 0)
