"""Rowwise8BitQuantizedToFloat against a loop, edges and errors."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.testing import check_raises, check_reference

OP = CreateOperator("Rowwise8BitQuantizedToFloat", ["Q", "SB"], ["Y"])
F = np.float32


def naive(q, sb):
    rows = q.reshape(q.shape[0], int(np.prod(q.shape[1:])))
    out = [
        [F(F(F(c) * sb[i, 0]) + sb[i, 1]) for c in row.tolist()]
        for i, row in enumerate(rows)
    ]
    return [np.array(out, F).reshape(q.shape)]


@settings(max_examples=30, deadline=None)
@given(
    shape=st.sampled_from([(1, 1), (4, 6), (2, 3, 2), (5,), (0, 3)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(shape, seed):
    rng = np.random.default_rng(seed)
    q = rng.integers(0, 256, shape).astype(np.uint8)
    sb = rng.standard_normal((shape[0], 2)).astype(F)
    check_reference(OP, [q, sb], naive, atol=0, rtol=0)


def test_errors():
    q, sb = np.zeros((3, 2), np.uint8), np.ones((3, 2), F)
    check_raises(OP, [q, sb.ravel()], ShapeError, "scale_bias has to be matrix")
    check_raises(OP, [q, sb[:1]], ShapeError, "scale_bias must have the same first dim")
    check_raises(OP, [q, np.ones((3, 1), F)], ShapeError, "has to be equal to 2")
    check_raises(OP, [q.astype(F), sb], DTypeError, "unsigned char")
    check_raises(OP, [q, sb.astype(np.float64)], DTypeError, "caller expects")
