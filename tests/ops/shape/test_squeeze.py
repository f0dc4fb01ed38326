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
    run_example("Squeeze")


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=4), data=st.data())
def test_inverse_of_expand_dims(shape, data):
    ones = [i for i, d in enumerate(shape) if d == 1]
    if not ones:
        return
    dims = data.draw(st.lists(st.sampled_from(ones), min_size=1, max_size=3))
    x = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    want = [d for i, d in enumerate(shape) if i not in set(dims)]
    op = CreateOperator("Squeeze", ["X"], ["Y"], dims=dims)
    testing.check_reference(op, [x], lambda x: [x.reshape(want)])
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(tuple(want), np.int32)
    back = CreateOperator("ExpandDims", ["Y"], ["Z"], dims=dims)
    testing.check_reference(back, [x.reshape(want)], lambda y: [x])


def test_errors():
    x = np.zeros((1, 3), np.float32)
    testing.check_raises(CreateOperator("Squeeze", ["X"], ["Y"], dims=[1]), [x], ShapeError,
                         re.escape("inputDims[i] == 1. 3 vs 1. Dimension 1 of input must be "
                                   "1 instead of 3."))
    testing.check_raises(CreateOperator("Squeeze", ["X"], ["Y"], dims=[2]), [x], ShapeError,
                         re.escape("input.dim() > dims_.back(). 2 vs 2. Input needs at least "
                                   "3 dimensions."))
    testing.check_raises(CreateOperator("Squeeze", ["X"], ["Y"]), [x], ArgumentError,
                         "Parameter `dims` must be provided.")


def test_gradient():
    op = CreateOperator("Squeeze", ["X"], ["Y"], dims=[0])
    assert backward(op, ["Y"])[0] == [("ExpandDims", ["Y_grad"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(3.0).reshape(1, 3)], 0)
