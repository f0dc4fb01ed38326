"""Div and DivGradient: C = A / B under both broadcasting modes, C++ integer division,
the four- and three-input gradient forms, numeric gradients and the gradient op list."""

from __future__ import annotations

import operator
import re

import numpy as np
import pytest
from c2l_test_support.broadcast import naive_binary, naive_binary_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, SchemaError, ShapeError
from caffe2lite.workspace import Workspace

DIV = CreateOperator("Div", ["A", "B"], ["C"])
GRAD = CreateOperator("DivGradient", ["dC", "A", "B", "C"], ["dA", "dB"])


def c_int_div(x, y):
    """Integer division truncated toward zero, by magnitudes and signs."""
    q = abs(int(x)) // abs(int(y))
    return q if (x < 0) == (y < 0) else -q


@st.composite
def broadcastable(draw):
    c = draw(st.lists(st.integers(0, 3), max_size=4))
    a = [d if draw(st.booleans()) else 1 for d in c][draw(st.integers(0, len(c))):]
    b = [d if draw(st.booleans()) else 1 for d in c][draw(st.integers(0, len(c))):]
    return tuple(a), tuple(b)


@settings(max_examples=40, deadline=None)
@given(ab=broadcastable(), dtype=st.sampled_from([np.float32, np.float64, np.int32, np.int64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loops(ab, dtype, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = ab
    a = np.asarray(rng.integers(-30, 30, a_shape), dtype)
    b = np.asarray(rng.integers(1, 7, b_shape) * rng.choice([-1, 1], b_shape), dtype)
    f = operator.truediv if np.dtype(dtype).kind == "f" else c_int_div
    want = naive_binary(f, a, b)
    testing.check_reference(DIV, [a, b], lambda *v: want, atol=0, rtol=1e-6)
    c = want[0]
    dc = np.asarray(rng.integers(-5, 5, c.shape), dtype)
    want_grad = naive_binary_gradient(
        lambda g, x, y: (f(g, y), f(-g * (f(x, y)), y)), dc, a, b)
    testing.check_reference(GRAD, [dc, a, b, c], lambda *v: want_grad, atol=1e-5, rtol=1e-5)


def test_caffe2_doc_example_truncates_integers():
    a = np.array([[18, 8], [2, 9]], np.int32)
    b = np.array([[9, 2], [3, 2]], np.int32)
    testing.check_reference(DIV, [a, b], lambda *v: [np.array([[2, 4], [0, 4]], np.int32)])
    neg = np.array([-7, 7, -7], np.int64)
    testing.check_reference(DIV, [neg, np.array([2, -2, -2], np.int64)],
                            lambda *v: [np.array([-3, -3, 3], np.int64)])


def test_float_division_by_zero_and_integer_division_by_zero():
    got = testing.check_reference(DIV, [np.array([1, -1, 0], np.float32),
                                        np.zeros(3, np.float32)],
                                  lambda *v: [np.array([np.inf, -np.inf, np.nan], np.float32)])
    assert np.isnan(got[0][2])
    testing.check_raises(DIV, [np.array([1, 2], np.int32), np.array([1, 0], np.int32)],
                         EnforceError, "integer division by zero")


LEGACY = [((2, 3, 4, 5), (), -1), ((2, 3, 4, 5), (5,), -1), ((2, 3, 4, 5), (4, 5), -1),
          ((2, 3, 4, 5), (3, 4), 1), ((2, 3, 4, 5), (2,), 0), ((2, 3, 4, 5), (1, 3, 1), 0)]


def legacy_view(b, a_ndim, axis):
    """B reshaped so that numpy broadcasting lines it up with A as legacy mode does."""
    core = [d for d in b.shape]
    lead = 0
    while core and core[0] == 1:
        core.pop(0)
        lead += 1
    while core and core[-1] == 1:
        core.pop()
    if b.size == 1:
        return b.reshape(())
    start = (a_ndim - b.ndim if axis == -1 else axis) + lead
    return b.reshape(core + [1] * (a_ndim - start - len(core)))


@pytest.mark.parametrize("a_shape,b_shape,axis", LEGACY)
def test_legacy_broadcast(a_shape, b_shape, axis):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = (rng.uniform(1, 2, b_shape)).astype(np.float32)
    bv = legacy_view(b, len(a_shape), axis)
    op = CreateOperator("Div", ["A", "B"], ["C"], broadcast=1, axis=axis)
    want = naive_binary(operator.truediv, a, bv)
    testing.check_reference(op, [a, b], lambda *v: want, rtol=1e-6)
    dc = rng.standard_normal(a_shape).astype(np.float32)
    da, db = naive_binary_gradient(lambda g, x, y: (g / y, -g * (x / y) / y), dc, a, bv)
    grad = CreateOperator("DivGradient", ["dC", "A", "B", "C"], ["dA", "dB"],
                          broadcast=1, axis=axis)
    testing.check_reference(grad, [dc, a, b, want[0]],
                            lambda *v: [da, db.reshape(b.shape)], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("broadcast", [False, True])
def test_three_input_legacy_gradient_form(broadcast):
    # Caffe2's test_div_legacy_grad: DivGradient([B, C, dC]) -> [dA, dB], dA shaped as C.
    rng = np.random.default_rng(4)
    n, m = 3, 4
    b = rng.uniform(1, 2, (m,) if broadcast else (n, m)).astype(np.float32)
    c = rng.standard_normal((n, m)).astype(np.float32)
    dc = rng.standard_normal((n, m)).astype(np.float32)

    def ref(b, c, dc):
        da, db = dc / b, -dc * c / b
        return [da, db.sum(axis=0) if broadcast else db]

    op = CreateOperator("DivGradient", ["B", "C", "dC"], ["dA", "dB"])
    testing.check_reference(op, [b, c, dc], ref, atol=1e-5)


@pytest.mark.parametrize("a_shape,b_shape", [
    ((2, 3), (2, 3)), ((1,), (2, 3)), ((3,), (2, 3)), ((2, 1), (2, 3)), ((1, 3), (2, 1)),
])
@pytest.mark.parametrize("swap", [False, True])
def test_numeric_gradient(a_shape, b_shape, swap):
    # Caffe2's test_div shapes, both ways round, operands near 1 to 2 (bias 1.0).
    rng = np.random.default_rng(5)
    if swap:
        a_shape, b_shape = b_shape, a_shape
    a, b = rng.uniform(1, 2, a_shape), rng.uniform(1, 2, b_shape)
    testing.check_gradient(DIV, [a, b], [0, 1])


def test_numeric_gradient_legacy():
    rng = np.random.default_rng(6)
    a, b = rng.uniform(1, 2, (2, 3, 4)), rng.uniform(1, 2, (3,))
    testing.check_gradient(CreateOperator("Div", ["A", "B"], ["C"], broadcast=1, axis=1),
                           [a, b], [0, 1])


def test_empty_and_zero_d():
    testing.check_reference(DIV, [np.zeros((0, 3), np.float32), np.ones(3, np.float32)],
                            lambda *v: [np.zeros((0, 3), np.float32)])
    testing.check_reference(DIV, [np.array(6.0), np.array(4.0)], lambda *v: [np.array(1.5)])
    testing.check_reference(GRAD, [np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32),
                                   np.ones(3, np.float32), np.zeros((0, 3), np.float32)],
                            lambda *v: [np.zeros((0, 3), np.float32), np.zeros(3, np.float32)])


def test_in_place():
    ws = Workspace()
    ws.feed_blob("A", np.array([4, 9], np.float32))
    ws.feed_blob("B", np.array([2, 3], np.float32))
    ws.run_operator_once(CreateOperator("Div", ["A", "B"], ["A"]))
    np.testing.assert_array_equal(ws.fetch_blob("A"), [2, 3])
    testing.check_raises(CreateOperator("Div", ["A", "B"], ["B"]),
                         [np.ones(2, np.float32)] * 2, SchemaError, "in-place")
    testing.check_raises(CreateOperator("Div", ["A", "B"], ["A"]),
                         [np.ones(3, np.float32), np.ones((2, 3), np.float32)], ShapeError,
                         re.escape("C_dims_int == A_dims. [2, 3] vs [3]"))
    ws.feed_blob("dC", np.array([1, 1], np.float32))
    ws.feed_blob("C", np.array([2, 3], np.float32))
    ws.run_operator_once(CreateOperator("DivGradient", ["dC", "A", "B", "C"], ["dC", "dB"]))
    np.testing.assert_allclose(ws.fetch_blob("dC"), [0.5, 1 / 3])


def test_errors():
    testing.check_raises(DIV, [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)],
                         ShapeError, re.escape("A_dim: 3,B_dim: 4"))
    testing.check_raises(DIV, [np.ones(2, np.float32), np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(DIV, [np.ones(2, bool), np.ones(2, bool)], DTypeError,
                         "Unsupported type of tensor: bool")
    legacy = CreateOperator("Div", ["A", "B"], ["C"], broadcast=1)
    testing.check_raises(legacy, [np.ones((2, 3), np.float32), np.ones(2, np.float32)],
                         ShapeError, re.escape("A.size(i + axis) == B.size(i). 3 vs 2. "
                                               "Broadcast dimension mismatch."))
    testing.check_raises(GRAD, [np.ones(3, np.float32), np.ones(2, np.float32),
                                np.ones(2, np.float32), np.ones(2, np.float32)],
                         ShapeError, re.escape("dC.sizes() == C.sizes()"))
    testing.check_raises(GRAD, [np.ones(2, np.float32), np.ones(2, np.float32),
                                np.ones(2, np.int32), np.ones(2, np.float32)],
                         DTypeError, "blob 'B'")


def test_gradient_ops_list():
    op = CreateOperator("Div", ["A", "B"], ["C"], broadcast=1, axis=0)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"C": "C_grad"})
    want = CreateOperator("DivGradient", ["C_grad", "A", "B", "C"], ["A_grad", "B_grad"],
                          broadcast=1, axis=0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert (str(grads["A"]), str(grads["B"])) == ("A_grad", "B_grad")
