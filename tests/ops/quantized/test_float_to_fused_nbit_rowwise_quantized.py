"""FloatToFused4BitRowwiseQuantized / FloatToFused2BitRowwiseQuantized: bit-exact
against a per-element loop (fp16 scale and bias), Caffe2's test cases
(fused_nbit_rowwise_conversion_ops_test), edges and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.testing import check_raises, check_reference

F, H = np.float32, np.float16


def op(bits):
    return CreateOperator(f"FloatToFused{bits}BitRowwiseQuantized", ["X"], ["Y"])


def naive(bits):
    def ref(x):
        k, top = 8 // bits, (1 << bits) - 1
        out = []
        for row in x.reshape(-1, x.shape[-1]):
            lo = F(H(min(row)))
            span = F(F(max(row)) - lo)
            scale = H(1.0) if span == 0 else H(F(span / F(top)))
            if scale == 0:
                scale = H(1.0)
            with np.errstate(divide="ignore"):
                inverse = F(F(1) / F(scale))
            if np.isinf(inverse):
                scale, inverse = H(1.0), F(1)
            packed = bytearray((len(row) + k - 1) // k)
            for col, v in enumerate(row):
                q = max(0, min(round(float(F(F(v - lo) * inverse))), top))
                packed[col // k] |= q << ((col % k) * bits)
            out.append(bytes(packed) + scale.tobytes() + H(lo).tobytes())
        data = np.frombuffer(b"".join(out), np.uint8)
        return [data.reshape(x.shape[:-1] + (x.shape[-1] // k + 4,))]

    return ref


@pytest.mark.parametrize("bits", [4, 2])
@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from([(1, 4), (3, 8), (2, 3, 4), (8,), (5, 12)]),
    seed=st.integers(0, 2**16),
    spread=st.sampled_from([1e-3, 1.0, 100.0]),
)
def test_matches_loop_bit_for_bit(bits, shape, seed, spread):
    x = (np.random.default_rng(seed).standard_normal(shape) * spread).astype(F)
    check_reference(op(bits), [x], naive(bits))


@pytest.mark.parametrize("bits", [4, 2])
def test_round_trip_error_within_one_step(bits):
    # fused_nbit_rowwise_conversion_ops_test: quantize then dequantize.
    x = np.random.default_rng(0).random((10, 16)).astype(F)
    (y,) = check_reference(op(bits), [x], naive(bits))
    k = 8 // bits
    sb = y[:, -4:].copy().view("<f2").astype(F)
    codes = np.stack(
        [(y[:, :-4] >> (j * bits)) & ((1 << bits) - 1) for j in range(k)], axis=-1
    ).reshape(10, 16)
    back = codes * sb[:, :1] + sb[:, 1:]
    assert np.all(np.abs(back - x) <= sb[:, :1] * 0.51 + 1e-3)


@pytest.mark.parametrize("bits", [4, 2])
def test_constant_rows_get_scale_one(bits):
    x = np.full((2, 4), 3.0, F)
    (y,) = check_reference(op(bits), [x], naive(bits))
    assert y[:, -4:-2].copy().view("<f2").ravel().tolist() == [1.0, 1.0]


def test_errors():
    check_raises(
        op(4),
        [np.zeros((2, 3), F)],
        ShapeError,
        "only works for the number of columns a multiple of 2",
    )
    check_raises(
        op(2),
        [np.zeros((2, 6), F)],
        ShapeError,
        "FloatToFused2BitRowwiseQuantizedOp only works for the number of "
        "columns a multiple of 4",
    )
    check_raises(op(4), [np.zeros((2, 4), np.float64)], DTypeError, "caller expects")
    check_raises(op(4), [np.array(1.0, F)], ShapeError, "at least 1")
