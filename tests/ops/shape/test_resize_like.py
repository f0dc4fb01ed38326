from __future__ import annotations

import re

import numpy as np
import pytest
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
    run_example("ResizeLike")


@settings(max_examples=20, deadline=None)
@given(dims=st.lists(st.integers(1, 3), max_size=3), seed=st.integers(0, 99))
def test_matches_naive(dims, seed):
    n = int(np.prod(dims))
    data = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    like = np.zeros(list(reversed(dims)) + [1], np.int8)
    want = np.array(data.tolist(), np.float32).reshape(like.shape)
    op = CreateOperator("ResizeLike", ["D", "L"], ["Y"])
    testing.check_reference(op, [data, like], lambda *a: [want])
    assert infer_op(op, [shape_of(data), shape_of(like)])[0] == TensorShape(like.shape,
                                                                              np.float32)


def test_errors_and_gradient_decision():
    op = CreateOperator("ResizeLike", ["D", "L"], ["Y"])
    testing.check_raises(op, [np.zeros(3), np.zeros((2, 2))], ShapeError,
                         re.escape("input0.numel() == input1.numel(). 3 vs 4"))
    with pytest.raises(ShapeError):
        infer_op(op, [TensorShape((3,), np.float64), TensorShape((2, 2), np.float64)])
    assert registry.GRADIENTS["ResizeLike"].kind == registry.SHOULD_NOT_DO
