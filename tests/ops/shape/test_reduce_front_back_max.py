"""ReduceFrontMax / ReduceBackMax and their gradient ops against loops written from
Caffe2's per-element definition, with the cases of Caffe2's reduce_ops_test.py
(test_reduce_front_max, test_reduce_back_max and their _with_length variants)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of

SIDES = [("ReduceFrontMax", True), ("ReduceBackMax", False)]


def _vectors(shape, n, front):
    """(batch, reduced, get(b, r)) for X of ``shape``: vector b's r-th entry's index."""
    cut = n if front else len(shape) - n
    lead, tail = math.prod(shape[:cut]), math.prod(shape[cut:])
    if front:
        return tail, lead, lambda b, r: (r, b)
    return lead, tail, lambda b, r: (b, r)


def naive_max(x, n, front, lengths=None):
    cut = n if front else x.ndim - n
    out_shape = x.shape[n:] if front else x.shape[:cut]
    batch, reduced, at = _vectors(x.shape, n, front)
    if batch == 0 or reduced == 0:
        return [np.zeros(out_shape, np.float32)]
    m = x.reshape(math.prod(x.shape[:cut]), -1)
    out = []
    for b in range(batch):
        length = reduced if lengths is None else int(lengths[b])
        best = m[at(b, 0)]
        for r in range(1, length):
            best = max(best, m[at(b, r)])  # like std::max: the later only if larger
        out.append(best)
    return [np.array(out, np.float32).reshape(out_shape)]


def naive_grad(dy, x, y, n, front, lengths=None):
    cut = n if front else x.ndim - n
    batch, reduced, at = _vectors(x.shape, n, front)
    m = x.reshape(math.prod(x.shape[:cut]), -1)
    dx = np.zeros_like(m)
    dyf, yf = dy.reshape(-1), y.reshape(-1)
    for b in range(batch):
        length = reduced if lengths is None else int(lengths[b])
        for r in range(min(length, reduced)):
            if m[at(b, r)] == yf[b]:
                dx[at(b, r)] = dyf[b]
    return [dx.reshape(x.shape)]


@pytest.mark.parametrize("op_type", ["ReduceFrontMax", "ReduceBackMax",
                                     "ReduceFrontMaxGradient", "ReduceBackMaxGradient"])
def test_doc_example(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    got = testing.check_reference(op, list(ex.inputs.values()),
                                  lambda *a: list(ex.outputs.values()), atol=0, rtol=0)
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    assert [(s.dims, s.dtype) for s in shapes] == [(g.shape, g.dtype) for g in got]


@settings(max_examples=40, deadline=None)
@given(side=st.sampled_from(SIDES), shape=st.lists(st.integers(0, 4), min_size=1, max_size=4),
       data=st.data(), seed=st.integers(0, 2**16))
def test_matches_naive_loop(side, shape, data, seed):
    op_type, front = side
    n = data.draw(st.integers(0, len(shape)))
    x = np.random.default_rng(seed).integers(-5, 5, shape).astype(np.float32)  # ties
    op = CreateOperator(op_type, ["X"], ["Y"], num_reduce_dim=n)
    y = testing.check_reference(op, [x], lambda x: naive_max(x, n, front), atol=0, rtol=0)[0]
    dy = np.random.default_rng(seed + 1).standard_normal(y.shape).astype(np.float32)
    if x.size:
        grad = CreateOperator(op_type + "Gradient", ["dY", "X", "Y"], ["dX"], num_reduce_dim=n)
        testing.check_reference(grad, [dy, x, y], lambda *a: naive_grad(dy, x, y, n, front),
                                atol=0, rtol=0)


@pytest.mark.parametrize("op_type,front", SIDES)
def test_lengths_as_caffe2s_with_length_tests(op_type, front):
    # reduce_ops_test.py: X (2, 3, 4, 5), num_reduce_dim=1, lengths in [1, d).
    rng = np.random.default_rng(3)
    x = rng.random((2, 3, 4, 5)).astype(np.float32)
    batch = 60 if front else 24
    d = 120 // batch
    lengths = rng.integers(0, d + 1, batch).astype(np.int32)  # 0 and d included
    op = CreateOperator(op_type, ["X", "lengths"], ["Y"])
    y = testing.check_reference(op, [x, lengths], lambda x, l: naive_max(x, 1, front, l),
                                atol=0, rtol=0)[0]
    dy = rng.random(y.shape).astype(np.float32)
    grad = CreateOperator(op_type + "Gradient", ["dY", "X", "Y", "lengths"], ["dX"])
    testing.check_reference(grad, [dy, x, y, lengths],
                            lambda *a: naive_grad(dy, x, y, 1, front, lengths), atol=0, rtol=0)


def test_nan_and_zero_length_follow_std_max():
    x = np.array([[np.nan, 1], [2, np.nan], [3, 0]], np.float32)
    op = CreateOperator("ReduceFrontMax", ["X", "L"], ["Y"])
    testing.check_reference(op, [x, np.array([3, 0], np.int32)],
                            lambda x, l: [np.array([np.nan, 1], np.float32)], atol=0)
    back = CreateOperator("ReduceBackMax", ["X"], ["Y"])
    testing.check_reference(back, [x], lambda x: [np.array([np.nan, 2, 3], np.float32)],
                            atol=0)


def test_empty_gives_zeros_and_shapes():
    op = CreateOperator("ReduceBackMax", ["X"], ["Y"], num_reduce_dim=2)
    got = testing.check_reference(op, [np.zeros((3, 0, 2), np.float32)],
                                  lambda x: [np.zeros((3,), np.float32)])
    assert got[0].shape == (3,)
    f4 = np.dtype(np.float32)
    front = CreateOperator("ReduceFrontMax", ["X"], ["Y"], num_reduce_dim=2)
    assert infer_op(front, [TensorShape((6, 7, 8, 2), f4)]) == [TensorShape((8, 2), f4)]
    assert infer_op(op, [TensorShape(("N", 7, 8), f4)]) == [TensorShape(("N",), f4)]
    assert infer_op(op, [TensorShape(None, f4)])[0].dims is None
    grad = CreateOperator("ReduceFrontMaxGradient", ["dY", "X", "Y"], ["dX"])
    assert infer_op(grad, [TensorShape((8,), f4), TensorShape((6, 8), f4),
                           TensorShape((8,), f4)]) == [TensorShape((6, 8), f4)]


def test_errors():
    x = np.ones((3, 4), np.float32)
    op = CreateOperator("ReduceFrontMax", ["X", "L"], ["Y"])
    testing.check_raises(op, [x.astype(np.int32), np.ones(4, np.int32)], DTypeError,
                         "caller expects elements to be float while tensor contains int")
    grad = CreateOperator("ReduceFrontMaxGradient", ["dY", "X", "Y"], ["dX"])
    testing.check_raises(grad, [np.ones(4, np.float64), x, np.ones(4, np.float32)],
                         DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(op, [x, np.ones(4, np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    testing.check_raises(op, [x, np.ones(3, np.int32)], EnforceError,
                         "The size of lengths vector doesn't match the batch size.")
    testing.check_raises(op, [x, np.array([1, 4, 1, 1], np.int32)], EnforceError,
                         "lengths out of range")
    two = CreateOperator("ReduceFrontMax", ["X", "L"], ["Y"], num_reduce_dim=2)
    testing.check_raises(two, [x, np.ones(1, np.int32)], EnforceError,
                         "Given lengths input, the number of reduce dimensions should be one.")
    testing.check_raises(CreateOperator("ReduceBackMax", ["X"], ["Y"], num_reduce_dim=3),
                         [x], EnforceError,
                         re.escape("For N-dim input tensor, support num_reduce_dims in range "
                                   "[0, N]."))
    grad = CreateOperator("ReduceBackMaxGradient", ["dY", "X", "Y"], ["dX"])
    testing.check_raises(grad, [np.ones(2, np.float32), x, np.ones(3, np.float32)],
                         EnforceError, "dY does not match the reduced shape")


@pytest.mark.parametrize("op_type", ["ReduceFrontMax", "ReduceBackMax"])
def test_gradient_ops_list_and_numeric_gradient(op_type):
    def backward(inputs):
        op = CreateOperator(op_type, inputs, ["Y"])
        ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
        return [(o.type, list(o.input), list(o.output)) for o in ops], str(grads["X"])

    assert backward(["X"]) == ([(op_type + "Gradient", ["Y_grad", "X", "Y"], ["X_grad"])],
                               "X_grad")
    assert backward(["X", "L"]) == (
        [(op_type + "Gradient", ["Y_grad", "X", "Y", "L"], ["X_grad"])], "X_grad")
    # distinct values spaced wider than the step, so the arg max never moves
    x = (np.random.default_rng(5).permutation(24).reshape(2, 3, 4) / 2).astype(np.float32)
    testing.check_gradient(CreateOperator(op_type, ["X"], ["Y"]), [x], 0, eps=1e-2,
                           atol=1e-3, rtol=1e-3)
