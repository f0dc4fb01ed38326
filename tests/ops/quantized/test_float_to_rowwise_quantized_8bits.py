"""FloatToRowwiseQuantized8Bits: bit-exact against a loop (Eigen's round: halves
away from zero), Caffe2's round trip, edges and errors."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.testing import check_raises, check_reference

OP = CreateOperator("FloatToRowwiseQuantized8Bits", ["X"], ["Q", "SB"])
F = np.float32


def naive(x):
    rows = x.reshape(x.shape[0], int(np.prod(x.shape[1:])))
    codes, sb = [], []
    for row in rows:
        lo, hi = F(min(row)), F(max(row))
        if F(hi - lo) < F(1e-10):
            sb.append([1.0, lo])
            codes.append([0] * len(row))
            continue
        scale = F(F(hi - lo) / F(255))
        inverse = F(F(1) / scale)
        sb.append([scale, lo])
        codes.append(
            [min(255, math.floor(float(F(F(v - lo) * inverse)) + 0.5)) for v in row]
        )
    return [np.array(codes, np.uint8).reshape(x.shape), np.array(sb, F).reshape(-1, 2)]


@settings(max_examples=30, deadline=None)
@given(
    shape=st.sampled_from([(1, 1), (4, 6), (2, 3, 2), (5,), (0, 3)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(shape, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(F)
    check_reference(OP, [x], naive, atol=0, rtol=0)


def test_round_trip_with_rowwise_8bit_quantized_to_float():
    x = np.random.default_rng(4).random((7, 5)).astype(F)
    q, sb = check_reference(OP, [x], naive)
    back = q.astype(F) * sb[:, :1] + sb[:, 1:]
    assert np.all(np.abs(back - x) <= sb[:, :1] / 2 + 1e-6)


def test_constant_row():
    q, sb = check_reference(OP, [np.full((1, 3), 2.5, F)], naive)
    assert q.tolist() == [[0, 0, 0]] and sb.tolist() == [[1.0, 2.5]]


def test_errors():
    check_raises(
        OP, [np.zeros((2, 2))], DTypeError, "caller expects elements to be float"
    )
    check_raises(OP, [np.array(1.0, F)], ShapeError, "at least one dimension")
    check_raises(OP, [np.zeros((2, 0), F)], ShapeError, "at least one element")
