"""Naive references for the broadcasting binary ops (Add, Sub, Mul) and the tests Sub
and Mul share: an element at a time over the broadcast output, mapping each output
index back to A and B."""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def aligned(a, b):
    """The shapes of A and B padded with leading 1s to the same rank."""
    nd = max(a.ndim, b.ndim)
    return (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape


def _index(idx, shape):
    return tuple(0 if s == 1 else i for i, s in zip(idx, shape))


def naive_binary(f, a, b):
    """C = f(A, B) element by element over the broadcast output."""
    ash, bsh = aligned(a, b)
    cshape = tuple(0 if p == 0 or q == 0 else max(p, q) for p, q in zip(ash, bsh))
    A, B = a.reshape(ash), b.reshape(bsh)
    out = np.empty(cshape, dtype=a.dtype)
    for idx in np.ndindex(*cshape):
        out[idx] = f(A[_index(idx, ash)], B[_index(idx, bsh)])
    return [out]


def naive_binary_gradient(g, dc, a, b):
    """(dA, dB): ``g(dC element, a, b)`` gives one output element's contributions,
    summed over the elements each input element met."""
    ash, bsh = aligned(a, b)
    A, B = a.reshape(ash), b.reshape(bsh)
    da, db = np.zeros(ash, dc.dtype), np.zeros(bsh, dc.dtype)
    for idx in np.ndindex(*dc.shape):
        ia, ib = _index(idx, ash), _index(idx, bsh)
        ga, gb = g(dc[idx], A[ia], B[ib])
        da[ia] += ga
        db[ib] += gb
    return [da.reshape(a.shape), db.reshape(b.shape)]


class BinaryOpTests:
    """The tests of a broadcasting binary op and its gradient op. A subclass named
    ``Test<Op>`` sets ``OP`` and gives the element functions ``F(x, y)`` (one output
    element) and ``G(g, x, y)`` (its contributions to dA and dB)."""

    OP: str
    F: Callable
    G: Callable

    def naive(self, a, b):
        return naive_binary(self.F, a, b)

    def naive_gradient(self, dc, a, b):
        return naive_binary_gradient(self.G, dc, a, b)

    def __init_subclass__(cls, **kwargs):
        """Give each op class its own Hypothesis test (Hypothesis wants one test
        function run by one class only)."""
        super().__init_subclass__(**kwargs)
        cls.test_matches_naive_loops = settings(max_examples=30, deadline=None)(
            given(shape=st.lists(st.integers(0, 3), max_size=3), data=st.data(),
                  dtype=st.sampled_from([np.int32, np.int64, np.float32, np.float64]),
                  seed=st.integers(0, 2**16))(BinaryOpTests.matches_naive_loops))

    def matches_naive_loops(self, shape, data, dtype, seed):
        """C and (dA, dB) match the naive loops, exactly, under numpy broadcasting."""
        rng = np.random.default_rng(seed)
        b_shape = [d if data.draw(st.booleans()) else 1 for d in shape]
        b_shape = b_shape[data.draw(st.integers(0, len(b_shape))):]
        a = np.asarray(rng.integers(-20, 20, shape), dtype=dtype)
        b = np.asarray(rng.integers(-20, 20, b_shape), dtype=dtype)
        testing.check_reference(CreateOperator(self.OP, ["A", "B"], ["C"]), [a, b],
                                self.naive, atol=0, rtol=0)
        dc = np.asarray(rng.integers(-5, 5, shape), dtype=dtype)
        grad = CreateOperator(self.OP + "Gradient", ["dC", "A", "B"], ["dA", "dB"])
        testing.check_reference(grad, [dc, a, b], self.naive_gradient, atol=0, rtol=0)

    def test_legacy_broadcast_on_an_inner_axis(self):
        rng = np.random.default_rng(2)
        a = rng.standard_normal((2, 3, 4)).astype(np.float32)
        b = rng.standard_normal(3).astype(np.float32)
        op = CreateOperator(self.OP, ["A", "B"], ["C"], broadcast=1, axis=1)
        testing.check_reference(op, [a, b], lambda *v: self.naive(a, b.reshape(3, 1)),
                                atol=1e-6)
        dc = rng.standard_normal((2, 3, 4)).astype(np.float32)
        grad = CreateOperator(self.OP + "Gradient", ["dC", "A", "B"], ["dA", "dB"],
                              broadcast=1, axis=1)
        want = self.naive_gradient(dc, a, b.reshape(3, 1))
        testing.check_reference(grad, [dc, a, b],
                                lambda *v: [want[0], want[1].reshape(3)], atol=1e-5)

    def test_errors(self):
        op = CreateOperator(self.OP, ["A", "B"], ["C"])
        testing.check_raises(op, [np.ones((2, 3)), np.ones(2)], ShapeError,
                             re.escape("A_dim: 3,B_dim: 2"))
        testing.check_raises(op, [np.ones(2, np.int8), np.ones(2, np.int8)], DTypeError,
                             "Unsupported type of tensor: signed char")
        testing.check_raises(op, [np.ones(2, np.int64), np.ones(2, np.int32)], DTypeError,
                             "caller expects elements to be long while tensor contains int")

    @pytest.mark.parametrize("a_shape,b_shape,kw", [
        ((2, 3), (2, 3), {}), ((2, 1, 3), (4, 1), {}),
        ((2, 3, 4), (3,), {"broadcast": 1, "axis": 1}),
    ])
    def test_numeric_gradient(self, a_shape, b_shape, kw):
        rng = np.random.default_rng(13)
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        testing.check_gradient(CreateOperator(self.OP, ["A", "B"], ["C"], **kw), [a, b],
                               [0, 1])

    def test_gradient_ops_list(self):
        op = CreateOperator(self.OP, ["A", "B"], ["C"])
        ops, _ = GradientRegistry.GetBackwardPass([op], {"C": "C_grad"})
        want = CreateOperator(self.OP + "Gradient", ["C_grad", "A", "B"],
                              ["A_grad", "B_grad"])
        want.is_gradient_op = True
        assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
