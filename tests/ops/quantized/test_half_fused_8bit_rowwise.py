"""HalfFloatToFused8BitRowwiseQuantized / Fused8BitRowwiseQuantizedToHalfFloat:
bit-exact against per-element loops, Caffe2's fp16 round trips
(lengths_reducer_fused_8bit_rowwise_ops_test, shape_inference_test's
testHalfInt8Conversion), shapes, edges and errors."""

from __future__ import annotations

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

Q = CreateOperator("HalfFloatToFused8BitRowwiseQuantized", ["X"], ["Q"])
D = CreateOperator("Fused8BitRowwiseQuantizedToHalfFloat", ["Q"], ["Y"])
F = np.float32


def naive_quantize(x):
    """Row by row in float32 steps; Python's round() ties to even like lrintf."""
    out = []
    for row in x.reshape(-1, x.shape[-1]):
        vals = [F(float(v)) for v in row]
        lo, hi = min(vals), max(vals)
        span = F(hi - lo)
        inverse = F(F(255) / F(span + F(1e-8)))
        codes = [round(float(F(F(v - lo) * inverse))) for v in vals]
        out.append(bytes(codes) + struct.pack("<ff", F(span / F(255)), lo))
    data = np.frombuffer(b"".join(out), np.uint8)
    return [data.reshape(x.shape[:-1] + (x.shape[-1] + 8,))]


def naive_dequantize(q):
    out = []
    for row in q.reshape(-1, q.shape[-1]):
        scale, bias = struct.unpack("<ff", bytes(row[-8:].tolist()))
        out.append([np.float16(F(F(F(int(c)) * F(scale)) + F(bias))) for c in row[:-8]])
    return [np.array(out, np.float16).reshape(q.shape[:-1] + (q.shape[-1] - 8,))]


@settings(max_examples=25, deadline=None)
@given(
    shape=st.sampled_from([(1, 1), (3, 5), (2, 3, 4), (7,), (4, 17), (0, 3)]),
    seed=st.integers(0, 2**16),
)
def test_matches_loops_bit_for_bit(shape, seed):
    x = (np.random.default_rng(seed).standard_normal(shape) * 5).astype(np.float16)
    (q,) = check_reference(Q, [x], naive_quantize, atol=0, rtol=0)
    check_reference(D, [q], naive_dequantize, atol=0, rtol=0)


def test_same_bytes_as_the_float_op_on_widened_values():
    x = np.random.default_rng(3).random((6, 9)).astype(np.float16)
    (q,) = check_reference(Q, [x], naive_quantize)
    f = CreateOperator("FloatToFused8BitRowwiseQuantized", ["X"], ["Q"])
    check_reference(f, [x.astype(np.float32)], lambda _: [q], atol=0, rtol=0)


@pytest.mark.parametrize("rows,cols", [(100, 150), (1, 1), (30, 64)])
def test_caffe2_round_trips(rows, cols):
    # shape_inference_test: allclose(x, recovered, atol=1e-2) on rand(100, 150);
    # the lookup test: |x - y| <= range / 255 / 1.9 with rtol 1e-3 per row.
    x = np.random.default_rng(rows).random((rows, cols)).astype(np.float16)
    (q,) = check_reference(Q, [x], naive_quantize)
    (y,) = check_reference(D, [q], naive_dequantize)
    assert y.dtype == np.float16 and y.shape == x.shape
    assert np.allclose(x, y, atol=1e-2)
    xf, yf = x.astype(F), y.astype(F)
    threshold = (xf.max(axis=1) - xf.min(axis=1)) / 255.0 / 1.9
    assert np.all(np.isclose(xf, yf, atol=threshold[:, None], rtol=1e-3))


def test_shapes_agree_with_kernels():
    q_shape = registry.OPERATORS[("HalfFloatToFused8BitRowwiseQuantized", "")].shape
    d_shape = registry.OPERATORS[("Fused8BitRowwiseQuantizedToHalfFloat", "")].shape
    (s,) = q_shape(TensorShape((2, 3, 5), np.float16))
    assert s.dims == (2, 3, 13) and np.dtype(s.dtype) == np.uint8
    (s,) = d_shape(TensorShape(("n", "c"), np.uint8))
    assert s.dims == ("n", "c-8") and np.dtype(s.dtype) == np.float16
    (s,) = d_shape(TensorShape(None, np.uint8))
    assert s.dims is None


def test_errors():
    check_raises(
        Q,
        [np.zeros((2, 3), np.float32)],
        DTypeError,
        "caller expects elements to be c10::Half while tensor contains float",
    )
    check_raises(Q, [np.zeros((), np.float16)], ShapeError, "at least 1")
    check_raises(Q, [np.zeros((2, 0), np.float16)], ShapeError, "at least one column")
    check_raises(D, [np.zeros((2, 7), np.uint8)], ShapeError, "at least 8 bytes")
    check_raises(D, [np.zeros((2, 9), np.int8)], DTypeError, "unsigned char")


@pytest.mark.parametrize(
    "op_type",
    ["HalfFloatToFused8BitRowwiseQuantized", "Fused8BitRowwiseQuantizedToHalfFloat"],
)
def test_no_gradient(op_type):
    assert registry.GRADIENTS[op_type].kind == registry.NO_GRADIENT


def test_caffe2_fp16_lookup_case():
    # lengths_reducer_fused_8bit_rowwise_ops_test (fp16=True): the fused rows of
    # float16 data feed SparseLengthsSumFused8BitRowwise, which equals SparseLengthsSum
    # over the rows de-quantised (here to float32 through the float op).
    rng = np.random.default_rng(5)
    x = rng.random((20, 7)).astype(np.float16)
    indices = rng.integers(0, 20, 12).astype(np.int32)
    lengths = np.array([3, 0, 5, 4], np.int32)
    ws = Workspace()
    for name, value in [("x", x), ("i", indices), ("n", lengths)]:
        ws.feed_blob(name, value)
    for op in [
        CreateOperator("HalfFloatToFused8BitRowwiseQuantized", ["x"], ["q"]),
        CreateOperator("Fused8BitRowwiseQuantizedToFloat", ["q"], ["dq"]),
        CreateOperator("SparseLengthsSum", ["dq", "i", "n"], ["ref"]),
        CreateOperator("SparseLengthsSumFused8BitRowwise", ["q", "i", "n"], ["out"]),
        CreateOperator("Fused8BitRowwiseQuantizedToHalfFloat", ["q"], ["back"]),
    ]:
        ws.run_operator_once(op)
    np.testing.assert_allclose(ws.fetch_blob("out"), ws.fetch_blob("ref"), atol=1e-5)
    np.testing.assert_array_equal(
        ws.fetch_blob("back"), ws.fetch_blob("dq").astype(np.float16)
    )
