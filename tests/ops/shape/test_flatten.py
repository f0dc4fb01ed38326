from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
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
    run_example("Flatten")


@settings(max_examples=30, deadline=None)
@given(dims=st.lists(st.integers(0, 3), max_size=4), data=st.data())
def test_matches_naive(dims, data):
    axis = data.draw(st.integers(0, len(dims)))
    x = np.arange(int(np.prod(dims)), dtype=np.float64).reshape(dims)
    rows = 1
    for d in dims[:axis]:
        rows *= d
    cols = 1
    for d in dims[axis:]:
        cols *= d
    want = np.array(x.reshape(-1).tolist(), np.float64).reshape(rows, cols)
    op = CreateOperator("Flatten", ["X"], ["Y"], axis=axis)
    testing.check_reference(op, [x], lambda x: [want])
    assert infer_op(op, [shape_of(x)])[0] == TensorShape((rows, cols), np.float64)


def test_default_axis_and_errors():
    x = np.zeros((2, 3, 4), np.int32)
    testing.check_reference(CreateOperator("Flatten", ["X"], ["Y"]), [x],
                            lambda x: [np.zeros((2, 12), np.int32)])
    testing.check_raises(CreateOperator("Flatten", ["X"], ["Y"], axis=4), [x], ShapeError,
                         re.escape("input.dim() >= axis_. 3 vs 4. The rank of the tensor must "
                                   "be >= axis."))
    testing.check_raises(CreateOperator("Flatten", ["X"], ["Y"], axis=-1), [x], ArgumentError,
                         "axis must be non-negative")


def test_gradient():
    op = CreateOperator("Flatten", ["X"], ["Y"], axis=2)
    assert backward(op, ["Y"])[0] == [("ResizeLike", ["Y_grad", "X"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(12.0).reshape(2, 3, 2)], 0)
