"""HalfToFused{4,2}BitRowwiseQuantized / Fused{4,2}BitRowwiseQuantizedToHalf:
bit-exact against per-element loops (written after the reference of Caffe2's
fused_nbit_rowwise_conversion_ops_test, on float16 data), round trips, shapes, edges
and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.testing import check_raises, check_reference

F = np.float32
H = np.float16


def q_op(bits):
    return CreateOperator(f"HalfToFused{bits}BitRowwiseQuantized", ["X"], ["Q"])


def d_op(bits):
    return CreateOperator(f"Fused{bits}BitRowwiseQuantizedToHalf", ["Q"], ["Y"])


def naive_quantize(bits):
    def ref(x):
        k, top = 8 // bits, (1 << bits) - 1
        out = []
        for row in x.reshape(-1, x.shape[-1]):
            vals = [F(float(v)) for v in row]
            bias = F(H(min(vals)))
            scale = F(H(F(max(vals) - bias) / F(top)))
            inv = F(1) / scale if scale != 0 else math.inf
            if scale == 0 or math.isinf(inv):
                scale, inv = F(1), F(1)
            codes = [min(max(round(float(F(F(v - bias) * inv))), 0), top) for v in vals]
            packed = bytearray(len(codes) // k)
            for j, c in enumerate(codes):
                packed[j // k] |= c << ((j % k) * bits)
            out.append(bytes(packed) + H(scale).tobytes() + H(bias).tobytes())
        data = np.frombuffer(b"".join(out), np.uint8)
        return [data.reshape(x.shape[:-1] + (x.shape[-1] // k + 4,))]

    return ref


def naive_dequantize(bits):
    def ref(q):
        k = 8 // bits
        out = []
        for row in q.reshape(-1, q.shape[-1]):
            scale, bias = (F(v) for v in np.frombuffer(bytes(row[-4:].tolist()), "<f2"))
            vals = []
            for col in range((len(row) - 4) * k):
                code = (int(row[col // k]) >> ((col % k) * bits)) & ((1 << bits) - 1)
                vals.append(H(F(F(scale * F(code)) + bias)))
            out.append(vals)
        return [np.array(out, H).reshape(q.shape[:-1] + ((q.shape[-1] - 4) * k,))]

    return ref


@pytest.mark.parametrize("bits", [4, 2])
@settings(max_examples=20, deadline=None)
@given(
    shape=st.sampled_from([(1, 4), (3, 8), (2, 3, 4), (0, 4), (5, 12), (8,)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loops_bit_for_bit(bits, shape, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 3).astype(H)
    (q,) = check_reference(q_op(bits), [x], naive_quantize(bits), atol=0, rtol=0)
    check_reference(d_op(bits), [q], naive_dequantize(bits), atol=0, rtol=0)


@pytest.mark.parametrize("bits", [4, 2])
def test_same_bytes_as_the_float_op(bits):
    x = np.random.default_rng(bits).random((10, 16)).astype(H)
    (q,) = check_reference(q_op(bits), [x], naive_quantize(bits))
    f = CreateOperator(f"FloatToFused{bits}BitRowwiseQuantized", ["X"], ["Q"])
    check_reference(f, [x.astype(F)], lambda _: [q], atol=0, rtol=0)
    g = CreateOperator(f"Fused{bits}BitRowwiseQuantizedToFloat", ["Q"], ["Y"])
    (yf,) = check_reference(
        g, [q], lambda q: [naive_dequantize(bits)(q)[0].astype(F)], atol=1e-2, rtol=1e-3
    )
    check_reference(d_op(bits), [q], lambda _: [yf.astype(H)], atol=0, rtol=0)


@pytest.mark.parametrize("bits", [4, 2])
def test_round_trip_error_within_half_a_step(bits):
    # Caffe2's quantize-then-dequantize case, on float16 data in [0, 1).
    x = np.random.default_rng(7).random((40, 24)).astype(H)
    (q,) = check_reference(q_op(bits), [x], naive_quantize(bits))
    (y,) = check_reference(d_op(bits), [q], naive_dequantize(bits))
    scale = q[:, -4:-2].copy().view("<f2").astype(F)
    err = np.abs(y.astype(F) - x.astype(F))
    assert np.all(err <= scale / 2 + np.abs(x.astype(F)) * 2e-3 + 1e-3)


def test_constant_and_extreme_rows():
    x = np.array([[2.0, 2.0, 2.0, 2.0], [-60000, 60000, 0, 1]], H)
    for bits in (4, 2):
        (q,) = check_reference(q_op(bits), [x], naive_quantize(bits), atol=0, rtol=0)
        check_reference(d_op(bits), [q], naive_dequantize(bits), atol=0, rtol=0)


@pytest.mark.parametrize("bits", [4, 2])
def test_shapes(bits):
    per = 8 // bits
    qs = registry.OPERATORS[(f"HalfToFused{bits}BitRowwiseQuantized", "")].shape
    ds = registry.OPERATORS[(f"Fused{bits}BitRowwiseQuantizedToHalf", "")].shape
    (s,) = qs(TensorShape((3, 8), H))
    assert s.dims == (3, 8 // per + 4) and np.dtype(s.dtype) == np.uint8
    (s,) = ds(TensorShape((3, 6), np.uint8))
    assert s.dims == (3, 2 * per) and np.dtype(s.dtype) == H
    (s,) = ds(TensorShape(None, np.uint8))
    assert s.dims is None


def test_errors():
    check_raises(
        q_op(4),
        [np.zeros((2, 4), F)],
        DTypeError,
        "caller expects elements to be c10::Half while tensor contains float",
    )
    check_raises(q_op(4), [np.zeros((2, 3), H)], ShapeError, "multiple of 2")
    check_raises(q_op(2), [np.zeros((2, 6), H)], ShapeError, "multiple of 4")
    check_raises(q_op(2), [np.zeros((), H)], ShapeError, "at least 1")
    check_raises(d_op(4), [np.zeros((2, 3), np.uint8)], ShapeError, "at least 4 bytes")
    check_raises(d_op(2), [np.zeros((2, 6), np.int8)], DTypeError, "unsigned char")


@pytest.mark.parametrize("bits", [4, 2])
def test_no_gradient(bits):
    for op_type in (
        f"HalfToFused{bits}BitRowwiseQuantized",
        f"Fused{bits}BitRowwiseQuantizedToHalf",
    ):
        assert registry.GRADIENTS[op_type].kind == registry.NO_GRADIENT
