from __future__ import annotations

import re

import numpy as np
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


OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin"]


def naive_reduce(x, axes, keepdims, kind):
    """Group the elements by their kept coordinates with loops."""
    axes = sorted({a % x.ndim for a in axes}) if axes else list(range(x.ndim))
    groups = {}
    for index in np.ndindex(*x.shape):
        key = tuple(0 if i in axes else index[i] for i in range(x.ndim))
        groups.setdefault(key, []).append(x[index].item())
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    out = np.zeros(kept, x.dtype)
    for key, values in groups.items():
        out[key] = {"ReduceSum": sum, "ReduceMax": max, "ReduceMin": min,
                    "ReduceMean": lambda v: sum(v) / len(v)}[kind](values)
    if not keepdims:
        out = out.reshape([d for i, d in enumerate(x.shape) if i not in axes])
    return out


def test_examples():
    for op in OPS:
        run_example(op)
        run_example(op + "Gradient")


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 3), max_size=3), data=st.data(),
       kind=st.sampled_from(OPS), keepdims=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]))
def test_matches_naive(shape, data, kind, keepdims, dtype):
    if kind == "ReduceMean" and dtype in (np.int32, np.int64):
        dtype = np.float64
    rng = np.random.default_rng(len(shape))
    x = np.asarray(rng.integers(-5, 5, shape), dtype)
    axes = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), max_size=3)
                     if shape else st.just([]))
    op = CreateOperator(kind, ["X"], ["Y"], axes=axes, keepdims=keepdims)
    want = naive_reduce(x, axes, keepdims, kind)
    got = testing.check_reference(op, [x], lambda x: [want], rtol=1e-6)
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(got[0].shape, dtype)


def test_empty_reductions():
    x = np.zeros((2, 0), np.float32)
    for kind, value in (("ReduceSum", 0), ("ReduceMean", 0),
                        ("ReduceMax", np.finfo(np.float32).min),
                        ("ReduceMin", np.finfo(np.float32).max)):
        op = CreateOperator(kind, ["X"], ["Y"], axes=[1], keepdims=False)
        testing.check_reference(op, [x], lambda x, v=value: [np.full(2, v, np.float32)])
    op = CreateOperator("ReduceMax", ["X"], ["Y"], axes=[0])
    testing.check_reference(op, [np.zeros((0, 3), np.int32)],
                            lambda x: [np.full((1, 3), np.iinfo(np.int32).min, np.int32)])


def test_errors():
    x = np.zeros((2, 3), np.float32)
    testing.check_raises(CreateOperator("ReduceSum", ["X"], ["Y"], axes=[2]), [x], ShapeError,
                         re.escape("axis_index < ndims. 2 vs 2"))
    testing.check_raises(CreateOperator("ReduceSum", ["X"], ["Y"], axes=[-3]), [x],
                         ShapeError, re.escape("axis_index >= -ndims. -3 vs -2"))
    testing.check_raises(CreateOperator("ReduceMean", ["X"], ["Y"]), [x.astype(np.int32)],
                         DTypeError, "caller expects elements to be float while tensor "
                         "contains int")
    testing.check_raises(CreateOperator("ReduceMax", ["X"], ["Y"]), [x.astype(np.int8)],
                         DTypeError, "Unsupported type of tensor: signed char")
    grad = CreateOperator("ReduceSumGradient", ["dY", "X", "Y"], ["dX"], axes=[1])
    testing.check_raises(grad, [np.zeros(3, np.float32), x, np.zeros(2, np.float32)],
                         ShapeError, "dY does not have the reduced shape of X")


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(OPS), keepdims=st.booleans(),
       axes=st.sampled_from([[], [0], [1], [-1, 0], [2, 0]]))
def test_numeric_gradient(kind, keepdims, axes):
    x = np.random.default_rng(3).permutation(24).reshape(2, 3, 4).astype(np.float64)
    op = CreateOperator(kind, ["X"], ["Y"], axes=axes, keepdims=keepdims)
    testing.check_gradient(op, [x], 0)


def test_gradient_ops_and_ties():
    op = CreateOperator("ReduceMax", ["X"], ["Y"], axes=[1], keepdims=False)
    ops, _grads = backward(op, ["Y"])
    assert ops == [("ReduceMaxGradient", ["Y_grad", "X", "Y"], ["X_grad"])]
    x = np.array([[3.0, 3.0, 1.0]])
    grad = CreateOperator("ReduceMaxGradient", ["dY", "X", "Y"], ["dX"], axes=[1],
                          keepdims=False)
    testing.check_reference(grad, [np.array([2.0]), x, np.array([3.0])],
                            lambda *a: [np.array([[2.0, 2.0, 0.0]])])
    for kind in OPS:
        ops, _ = backward(CreateOperator(kind, ["X"], ["Y"]), ["Y"])
        assert ops[0][0] == kind + "Gradient"



# -- ReduceL1 / ReduceL2 (Caffe2's reduce_ops_test.py test_reduce_l1 / test_reduce_l2) --

NORMS = ["ReduceL1", "ReduceL2"]


def naive_norm(x, axes, keepdims, kind):
    absolute = naive_reduce(np.abs(x), axes, keepdims, "ReduceSum")
    squares = naive_reduce(x * x, axes, keepdims, "ReduceSum")
    return absolute if kind == "ReduceL1" else np.sqrt(squares)


def test_norm_examples():
    for op in NORMS:
        run_example(op)
        run_example(op + "Gradient")


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 3), max_size=3), data=st.data(),
       kind=st.sampled_from(NORMS), keepdims=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_norms_match_naive(shape, data, kind, keepdims, dtype):
    x = np.asarray(np.random.default_rng(len(shape)).standard_normal(shape), dtype)
    axes = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), max_size=3)
                     if shape else st.just([]))
    op = CreateOperator(kind, ["X"], ["Y"], axes=axes, keepdims=keepdims)
    want = naive_norm(x, axes, keepdims, kind)
    got = testing.check_reference(op, [x], lambda x: [want], rtol=1e-5)
    assert infer_op(op, [shape_of(x)])[0] == TensorShape(got[0].shape, dtype)


def test_norm_gradient_ops_follow_caffe2s_eps():
    # L1: sign(X), 0 within 1e-12 of 0; L2: dY * X / Y, dY itself when Y < 1e-12.
    x = np.array([[-2.0, 0.0, 1e-13, 3.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    dy = np.array([[2.0], [5.0]], np.float32)
    l1 = CreateOperator("ReduceL1Gradient", ["dY", "X", "Y"], ["dX"], axes=[1])
    testing.check_reference(l1, [dy, x, np.array([[5.0], [0.0]], np.float32)],
                            lambda *a: [np.array([[-2, 0, 0, 2], [0, 0, 0, 0]], np.float32)],
                            atol=0)
    y = np.sqrt(np.array([[13.0], [0.0]], np.float32))
    want = np.empty_like(x)
    for i in range(2):
        for j in range(4):
            want[i, j] = dy[i, 0] if y[i, 0] < 1e-12 else dy[i, 0] * x[i, j] / y[i, 0]
    l2 = CreateOperator("ReduceL2Gradient", ["dY", "X", "Y"], ["dX"], axes=[1])
    testing.check_reference(l2, [dy, x, y], lambda *a: [want], atol=0, rtol=0)
    testing.check_raises(CreateOperator("ReduceL2", ["X"], ["Y"]), [x.astype(np.int32)],
                         DTypeError, "caller expects elements to be float while tensor "
                         "contains int")
    empty = CreateOperator("ReduceL2", ["X"], ["Y"], axes=[1], keepdims=False)
    testing.check_reference(empty, [np.zeros((2, 0), np.float32)],
                            lambda x: [np.zeros(2, np.float32)])


@settings(max_examples=8, deadline=None)
@given(kind=st.sampled_from(NORMS), keepdims=st.booleans(),
       axes=st.sampled_from([[], [0], [1, 2], [-1, 0]]))
def test_norm_numeric_gradient_and_ops(kind, keepdims, axes):
    x = (np.random.default_rng(4).permutation(24).reshape(2, 3, 4) - 11.5).astype(np.float64)
    op = CreateOperator(kind, ["X"], ["Y"], axes=axes, keepdims=keepdims)
    testing.check_gradient(op, [x], 0)
    ops, _ = backward(op, ["Y"])
    assert ops == [(kind + "Gradient", ["Y_grad", "X", "Y"], ["X_grad"])]
