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
from caffe2lite.workspace import Workspace


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


def naive_expand(shape, dims):
    out = list(shape)
    for d in sorted(set(dims)):
        out = out[:d] + [1] + out[d:]
    return out


def test_example():
    run_example("ExpandDims")


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3), data=st.data())
def test_matches_naive(shape, data):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    dims = data.draw(st.lists(st.integers(0, len(shape)), min_size=1, max_size=3))
    want = naive_expand(shape, dims)
    if max(dims) >= len(want):
        return
    op = CreateOperator("ExpandDims", ["X"], ["Y"], dims=dims)
    testing.check_reference(op, [x], lambda x: [x.reshape(want)])
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(tuple(want), np.float32)


def test_caffe2_doc_case_and_in_place():
    ws = Workspace()
    ws.feed_blob("X", np.zeros((3, 4, 5), np.int64))
    ws.run_operator_once(CreateOperator("ExpandDims", ["X"], ["X"], dims=[0, 4]))
    assert ws.fetch_blob("X").shape == (1, 3, 4, 5, 1)


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("ExpandDims", ["X"], ["Y"]), [x], ArgumentError,
                         "Parameter `dims` must be provided.")
    testing.check_raises(CreateOperator("ExpandDims", ["X"], ["Y"], dims=[-1]), [x],
                         ArgumentError, "Dimension ids must be non-negative.")
    testing.check_raises(CreateOperator("ExpandDims", ["X"], ["Y"], dims=[0, 5]), [x],
                         ShapeError, re.escape("4 vs 6. Input needs at least 4 dimensions "
                                               "given `dims`."))


def test_gradient():
    op = CreateOperator("ExpandDims", ["X"], ["Y"], dims=[1])
    assert backward(op, ["Y"])[0] == [("Squeeze", ["Y_grad"], ["X_grad"])]
    testing.check_gradient(op, [np.arange(6.0).reshape(2, 3)], 0)
