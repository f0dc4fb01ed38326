"""FloatToFused8BitRowwiseQuantized: bit-exact against a per-element loop, Caffe2's
test cases (fused_8bit_rowwise_conversion_ops_test), edges and errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.testing import check_raises, check_reference

OP = CreateOperator("FloatToFused8BitRowwiseQuantized", ["X"], ["Y"])
F = np.float32


def naive(x):
    """Row by row, element by element, float32 steps as Caffe2's loop; Python's
    round() rounds ties to even like lrintf."""
    rows = x.reshape(-1, x.shape[-1])
    out = []
    for row in rows:
        lo, hi = F(min(row)), F(max(row))
        span = F(hi - lo)
        scale = F(span / F(255))
        inverse = F(F(255) / F(span + F(1e-8)))
        codes = [round(float(F(F(v - lo) * inverse))) for v in row]
        out.append(bytes(codes) + struct.pack("<ff", scale, lo))
    data = np.frombuffer(b"".join(out), np.uint8)
    return [data.reshape(x.shape[:-1] + (x.shape[-1] + 8,))]


@settings(max_examples=30, deadline=None)
@given(
    shape=st.sampled_from([(1, 1), (3, 5), (2, 3, 4), (7,), (4, 17)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop_bit_for_bit(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 5
    check_reference(OP, [x], naive)


def test_caffe2_cases_round_trip_within_half_a_step():
    # fused_8bit_rowwise_conversion_ops_test: quantize then dequantize random data.
    x = np.random.default_rng(1).random((20, 16)).astype(np.float32)
    (y,) = check_reference(OP, [x], naive)
    codes = y[:, :16].astype(np.float32)
    sb = y[:, 16:].copy().view("<f4")
    back = codes * sb[:, :1] + sb[:, 1:]
    assert np.all(np.abs(back - x) <= sb[:, :1] / 2 + 1e-6)


def test_ties_round_to_even():
    # (0.5 - 0) * 255 / 1 = 127.5 -> 128 (even); 1.5/255*255 style ties likewise
    x = np.array([[0.0, 0.5, 1.0]], np.float32)
    (y,) = check_reference(OP, [x], naive)
    assert y[0, :3].tolist() == [0, 128, 255]


def test_constant_row_and_empty_rows():
    x = np.full((2, 3), 4.0, np.float32)
    (y,) = check_reference(OP, [x], naive)
    assert y[:, :3].tolist() == [[0, 0, 0]] * 2
    assert y[:, 3:7].copy().view("<f4").ravel().tolist() == [0.0, 0.0]
    (e,) = check_reference(OP, [np.zeros((0, 3), np.float32)], naive)
    assert e.shape == (0, 11) and e.dtype == np.uint8


def test_errors():
    check_raises(
        OP,
        [np.zeros((2, 3), np.float64)],
        DTypeError,
        "caller expects elements to be float while tensor contains double",
    )
    check_raises(
        OP,
        [np.array(1.0, np.float32)],
        ShapeError,
        "Input's dimension must be at least 1",
    )
    check_raises(OP, [np.zeros((2, 0), np.float32)], ShapeError, "at least one column")


def test_gradient_is_none():
    from caffe2lite.schema import registry

    assert (
        registry.GRADIENTS["FloatToFused8BitRowwiseQuantized"].kind
        == registry.NO_GRADIENT
    )


if __name__ == "__main__":
    pytest.main([__file__])
