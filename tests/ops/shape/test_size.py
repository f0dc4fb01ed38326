from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    Caffe2LiteError,
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


def test_example():
    run_example("Size")


@settings(max_examples=20, deadline=None)
@given(dims=st.lists(st.integers(0, 4), max_size=4),
       dtype=st.sampled_from([np.float32, np.int64, np.bool_]))
def test_matches_naive(dims, dtype):
    x = np.zeros(dims, dtype)
    count = 1
    for d in dims:
        count *= d
    testing.check_reference(CreateOperator("Size", ["X"], ["n"]), [x],
                            lambda x: [np.array(count, np.int64)])


def test_strings_and_shape_function():
    words = np.array([b"a", b"b", b"c"], dtype=object)
    testing.check_reference(CreateOperator("Size", ["X"], ["n"]), [words],
                            lambda x: [np.array(3, np.int64)])
    out = infer_op(CreateOperator("Size", ["X"], ["n"]), [TensorShape(None, None)])
    assert out == [TensorShape((), np.int64)]


def test_not_a_tensor_and_gradient():
    ws = Workspace()
    ws.create_blob("X")
    with pytest.raises(Caffe2LiteError):
        ws.run_operator_once(CreateOperator("Size", ["X"], ["n"]))
    assert registry.GRADIENTS["Size"].kind == registry.NO_GRADIENT
    assert backward(CreateOperator("Size", ["X"], ["n"]), ["n"])[0] == []
