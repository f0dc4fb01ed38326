"""{Float,Half}ToFused{4,2}BitFakeRowwiseQuantized: bit-exact against a per-element
loop, agreement with the packed N-bit op, Caffe2's TestNBitFakeFused error bound
(read back with Fused8BitRowwiseQuantizedToFloat), shapes, edges and errors."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

F = np.float32
H = np.float16
CASES = [("Float", F, 4), ("Float", F, 2), ("Half", H, 4), ("Half", H, 2)]


def op(kind, bits):
    return CreateOperator(f"{kind}ToFused{bits}BitFakeRowwiseQuantized", ["X"], ["Q"])


def naive(bits):
    def ref(x):
        top = (1 << bits) - 1
        out = []
        for row in x.reshape(-1, x.shape[-1]):
            vals = [F(float(v)) for v in row]
            bias = F(H(min(vals)))
            scale = F(H(F(max(vals) - bias) / F(top)))
            inv = F(1) / scale if scale != 0 else math.inf
            if scale == 0 or math.isinf(inv):
                scale, inv = F(1), F(1)
            codes = [min(max(round(float(F(F(v - bias) * inv))), 0), top) for v in vals]
            out.append(bytes(codes) + struct.pack("<ff", scale, bias))
        data = np.frombuffer(b"".join(out), np.uint8)
        return [data.reshape(x.shape[:-1] + (x.shape[-1] + 8,))]

    return ref


@pytest.mark.parametrize("kind,dtype,bits", CASES)
@settings(max_examples=15, deadline=None)
@given(
    shape=st.sampled_from([(1, 1), (3, 5), (2, 3, 4), (0, 3), (4, 17), (6,)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop_bit_for_bit(kind, dtype, bits, shape, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype)
    check_reference(op(kind, bits), [x], naive(bits), atol=0, rtol=0)


def run(op_type, x):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator(op_type, ["X"], ["Y"]))
    return ws.fetch_blob("Y")


@pytest.mark.parametrize("kind,dtype,bits", CASES)
def test_same_codes_scale_bias_as_the_packed_op(kind, dtype, bits):
    x = np.random.default_rng(bits).random((9, 16)).astype(dtype)
    (fake,) = check_reference(op(kind, bits), [x], naive(bits))
    packed = run(f"FloatToFused{bits}BitRowwiseQuantized", x.astype(F))
    np.testing.assert_array_equal(packed, naive_packed(fake, bits))
    np.testing.assert_array_equal(
        run("Fused8BitRowwiseQuantizedToFloat", fake),
        run(f"Fused{bits}BitRowwiseQuantizedToFloat", packed),
    )


def naive_packed(fake, bits):
    """The packed N-bit rows holding the fake op's codes and scale/bias."""
    k = 8 // bits
    out = []
    for row in fake:
        codes = [int(c) for c in row[:-8]]
        scale, bias = struct.unpack("<ff", bytes(row[-8:].tolist()))
        packed = bytearray(len(codes) // k)
        for j, c in enumerate(codes):
            packed[j // k] |= c << ((j % k) * bits)
        out.append(bytes(packed) + H(scale).tobytes() + H(bias).tobytes())
    return np.frombuffer(b"".join(out), np.uint8).reshape(len(out), -1)


@pytest.mark.parametrize("bits", [2, 4])
def test_caffe2_error_threshold(bits):
    # TestNBitFakeFused: min/max fake quantisation read back by
    # Fused8BitRowwiseQuantizedToFloat stays within the per-row bound.
    rng = np.random.default_rng(bits)
    x = rng.random((rng.integers(2, 300), rng.integers(2, 300))).astype(F)
    (q,) = check_reference(op("Float", bits), [x], naive(bits))
    y = run("Fused8BitRowwiseQuantizedToFloat", q)
    lo, hi = x.min(axis=1), x.max(axis=1)
    bias = H(lo)
    scale = H((hi - bias) / ((1 << bits) - 1))
    clip = np.maximum(np.abs(lo - bias), np.abs(scale * ((1 << bits) - 1) + bias - hi))
    thres = np.maximum(scale / 2, clip) * 1.1
    assert np.all(np.abs(x - y) <= thres[:, None])


def test_constant_row_and_ties():
    x = np.array([[3.0, 3.0, 3.0], [-1.0, 0.5, 2.0]], F)
    (q,) = check_reference(op("Float", 2), [x], naive(2), atol=0, rtol=0)
    assert q[0, :3].tolist() == [0, 0, 0] and q[1, :3].tolist() == [0, 2, 3]


@pytest.mark.parametrize("kind,dtype,bits", CASES)
def test_shape(kind, dtype, bits):
    fn = registry.OPERATORS[(f"{kind}ToFused{bits}BitFakeRowwiseQuantized", "")].shape
    (s,) = fn(TensorShape((2, 5, 3), dtype))
    assert s.dims == (2, 5, 11) and np.dtype(s.dtype) == np.uint8
    (s,) = fn(TensorShape(("n", "c"), dtype))
    assert s.dims == ("n", "c+8")


def test_errors():
    check_raises(
        op("Float", 4),
        [np.zeros((2, 4), H)],
        DTypeError,
        "caller expects elements to be float while tensor contains c10::Half",
    )
    check_raises(
        op("Half", 2),
        [np.zeros((2, 4), F)],
        DTypeError,
        "caller expects elements to be c10::Half while tensor contains float",
    )
    check_raises(op("Float", 2), [np.zeros((), F)], ShapeError, "at least 1")
    check_raises(
        op("Half", 4), [np.zeros((3, 0), H)], ShapeError, "at least one column"
    )


@pytest.mark.parametrize("kind,dtype,bits", CASES)
def test_no_gradient(kind, dtype, bits):
    entry = registry.GRADIENTS[f"{kind}ToFused{bits}BitFakeRowwiseQuantized"]
    assert entry.kind == registry.NO_GRADIENT
