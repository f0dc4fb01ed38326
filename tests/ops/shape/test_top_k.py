from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    ArgumentError,
    DTypeError,
    EnforceError,
    ShapeError,
)
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import shape_of


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


def naive_top_k(x, k, axis):
    axis = x.ndim - 1 if axis == -1 else axis
    moved = np.moveaxis(x, axis, -1)
    vals = np.zeros(moved.shape[:-1] + (k,), x.dtype)
    idx = np.full(moved.shape[:-1] + (k,), -1, np.int64)
    for index in np.ndindex(*moved.shape[:-1]):
        pairs = sorted((-moved[index + (j,)], j) for j in range(moved.shape[-1]))[:k]
        for slot, (neg, j) in enumerate(pairs):
            vals[index + (slot,)] = -neg
            idx[index + (slot,)] = j
    flat = []
    for index in np.ndindex(*idx.shape):
        j = idx[index]
        if j < 0:
            flat.append(-1)
            continue
        full = list(index[:-1])
        full.insert(axis, j)
        flat.append(int(np.ravel_multi_index(full, x.shape)))
    vals, idx = np.moveaxis(vals, -1, axis), np.moveaxis(idx, -1, axis)
    flat_in_order = np.array(flat, np.int64).reshape(np.moveaxis(idx, axis, -1).shape)
    return [vals, idx, np.moveaxis(flat_in_order, -1, axis).reshape(-1)]


def test_examples():
    run_example("TopK")
    run_example("TopKGradient")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_matches_naive(shape, data, dtype):
    x = np.asarray(np.random.default_rng(sum(shape)).integers(0, 4, shape), dtype)
    axis = data.draw(st.sampled_from([-1] + list(range(len(shape)))))
    k = data.draw(st.integers(1, 5))
    op = CreateOperator("TopK", ["X"], ["V", "I", "F"], k=k, axis=axis)
    want = naive_top_k(x, k, axis)
    got = testing.check_reference(op, [x], lambda x: want)
    shapes = infer_op(op, [shape_of(x)])
    assert [(s.dims, s.dtype) for s in shapes] == [(g.shape, g.dtype) for g in got]
    op2 = CreateOperator("TopK", ["X"], ["V", "I"], k=k, axis=axis)
    testing.check_reference(op2, [x], lambda x: want[:2])


def test_gradient():
    x = np.random.default_rng(0).permutation(12).reshape(3, 4).astype(np.float64)
    for axis in (-1, 0):
        op = CreateOperator("TopK", ["X"], ["V", "I"], k=2, axis=axis)
        testing.check_gradient(op, [x], 0, outputs=[0])
    op = CreateOperator("TopK", ["X"], ["V", "I", "F"], k=2)
    assert backward(op, ["V"])[0] == [("TopKGradient", ["V_grad", "I", "X"], ["X_grad"])]
    padded = CreateOperator("TopKGradient", ["dV", "I", "X"], ["dX"])
    testing.check_reference(padded, [np.array([[5.0, 6.0, 7.0]]), np.array([[1, 0, -1]]),
                                     np.zeros((1, 2))],
                            lambda *a: [np.array([[6.0, 5.0]])])


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("TopK", ["X"], ["V", "I"], k=0), [x], ArgumentError,
                         "k argument must be >= 1")
    testing.check_raises(CreateOperator("TopK", ["X"], ["V", "I"]), [x], ArgumentError,
                         "k argument must be >= 1")
    testing.check_raises(CreateOperator("TopK", ["X"], ["V", "I"], k=1, axis=2), [x],
                         ShapeError, re.escape("axis_ < input_dims.size(). 2 vs 2"))
    testing.check_raises(CreateOperator("TopK", ["X"], ["V", "I"], k=1),
                         [x.astype(np.int32)], DTypeError, "caller expects elements to be "
                         "float while tensor contains int")
    testing.check_raises(CreateOperator("TopK", ["X"], ["V", "I"], k=2**31), [x],
                         EnforceError, "too large")
    grad = CreateOperator("TopKGradient", ["dV", "I", "X"], ["dX"])
    testing.check_raises(grad, [np.zeros((2, 1), np.float32), np.array([[3], [0]]), x],
                         EnforceError, "TopK index out of range")
    testing.check_raises(grad, [np.zeros((2, 1), np.float32), np.array([[0], [0]], np.int32),
                                x], DTypeError, "caller expects elements to be long")
