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
    run_example("Shape")


@settings(max_examples=30, deadline=None)
@given(dims=st.lists(st.integers(0, 4), max_size=4), data=st.data())
def test_matches_naive(dims, data):
    x = np.zeros(dims, np.int32)
    want = np.array([d for d in dims], dtype=np.int64)
    testing.check_reference(CreateOperator("Shape", ["X"], ["S"]), [x], lambda x: [want])
    if dims:
        axes = data.draw(st.lists(st.integers(0, len(dims) - 1), max_size=5))
        want = np.array([dims[a] for a in axes] if axes else dims, dtype=np.int64)  # [] = all
        op = CreateOperator("Shape", ["X"], ["S"], axes=axes)
        testing.check_reference(op, [x], lambda x: [want])
        assert infer_op(op, [shape_of(x)])[0] == TensorShape((len(axes) or len(dims),), np.int64)


def test_scalar_and_strings():
    testing.check_reference(CreateOperator("Shape", ["X"], ["S"]), [np.array(1.0)],
                            lambda x: [np.zeros(0, np.int64)])
    words = np.array([b"a", b"b"], dtype=object)
    testing.check_reference(CreateOperator("Shape", ["X"], ["S"]), [words],
                            lambda x: [np.array([2], np.int64)])


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("Shape", ["X"], ["S"], axes=[2]), [x], ShapeError,
                         re.escape("axis < numDims. 2 vs 2. Axis out of range"))
    testing.check_raises(CreateOperator("Shape", ["X"], ["S"], axes=[-1]), [x], ShapeError,
                         re.escape("axis >= 0. -1 vs 0. Each axis should be non-negative"))


def test_no_gradient():
    assert registry.GRADIENTS["Shape"].kind == registry.SHOULD_NOT_DO
