from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
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


def naive_transpose(x, axes):
    axes = axes or list(reversed(range(x.ndim)))
    out = np.empty([x.shape[a] for a in axes], x.dtype)
    for index in np.ndindex(*x.shape):
        out[tuple(index[a] for a in axes)] = x[index]
    return out


def test_example():
    run_example("Transpose")


@settings(max_examples=30, deadline=None)
@given(dims=st.lists(st.integers(0, 3), max_size=4), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
def test_matches_naive(dims, data, dtype):
    x = np.arange(int(np.prod(dims)), dtype=dtype).reshape(dims)
    axes = data.draw(st.one_of(st.just([]), st.permutations(list(range(len(dims))))))
    op = CreateOperator("Transpose", ["X"], ["Y"], axes=list(axes))
    got = testing.check_reference(op, [x], lambda x: [naive_transpose(x, list(axes))])
    assert got[0].flags.c_contiguous
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(got[0].shape, dtype)


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("Transpose", ["X"], ["Y"], axes=[0, 2]), [x],
                         ArgumentError, "Axes should be a permutation of 0 to ndim.")
    testing.check_raises(CreateOperator("Transpose", ["X"], ["Y"], axes=[2, 1, 0]), [x],
                         ShapeError, re.escape("ndim == axes_.size(). 2 vs 3"))
    testing.check_raises(CreateOperator("Transpose", ["X"], ["Y"]), [x.astype(np.int8)],
                         DTypeError, "Unsupported type of tensor: signed char")
    with pytest.raises(ShapeError, match="incorrect size"):
        infer_op(CreateOperator("Transpose", ["X"], ["Y"], axes=[1, 0]),
                 [TensorShape((2, 3, 4), np.float32)])


def test_gradient_inverts_the_permutation():
    op = CreateOperator("Transpose", ["X"], ["Y"], axes=[1, 2, 0])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("Transpose", ["Y_grad"], ["X_grad"])]
    assert [(a.name, list(a.ints)) for a in ops[0].arg] == [("axes", [2, 0, 1])]
    testing.check_gradient(op, [np.arange(24.0).reshape(2, 3, 4)], 0)
    testing.check_gradient(CreateOperator("Transpose", ["X"], ["Y"]),
                           [np.arange(6.0).reshape(2, 3)], 0)
