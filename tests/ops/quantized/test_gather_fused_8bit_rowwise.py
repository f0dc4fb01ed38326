"""GatherFused8BitRowwise: against a per-row loop, Caffe2's gather_ops_test case
(equal to Gather on the de-quantised matrix), empty and int64 indices, shapes and
Caffe2's errors."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

OP = CreateOperator("GatherFused8BitRowwise", ["DATA", "INDICES"], ["OUT"])
F = np.float32


def naive(data, indices):
    out = []
    for i in indices.tolist():
        row = data[i]
        scale, bias = struct.unpack("<ff", bytes(row[-8:].tolist()))
        out.append([F(F(F(int(c)) * F(scale)) + F(bias)) for c in row[:-8]])
    return [np.array(out, F).reshape(len(out), data.shape[1] - 8)]


def quantize(x):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(
        CreateOperator("FloatToFused8BitRowwiseQuantized", ["X"], ["Q"])
    )
    return ws.fetch_blob("Q")


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 20),
    n=st.integers(0, 30),
    itype=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(rows, cols, n, itype, seed):
    rng = np.random.default_rng(seed)
    data = quantize(rng.standard_normal((rows, cols)).astype(F))
    ind = rng.integers(0, rows, n).astype(itype)
    check_reference(OP, [data, ind], naive, atol=0, rtol=0)


def test_caffe2_case_equals_gather_of_dequantized():
    # gather_ops_test TestGatherFused8BitRowwise: Gather(Fused8BitRowwiseQuantizedToFloat
    # (quantized), ind) == GatherFused8BitRowwise(quantized, ind).
    rng = np.random.default_rng(0)
    data = rng.random((500, 37)).astype(F)
    ind = rng.integers(0, 500, 300).astype(np.int32)
    ws = Workspace()
    ws.feed_blob("data", data)
    ws.feed_blob("ind", ind)
    for op in [
        CreateOperator("FloatToFused8BitRowwiseQuantized", ["data"], ["q"]),
        CreateOperator("Fused8BitRowwiseQuantizedToFloat", ["q"], ["dq"]),
        CreateOperator("Gather", ["dq", "ind"], ["ref"]),
        CreateOperator("GatherFused8BitRowwise", ["q", "ind"], ["out"]),
    ]:
        ws.run_operator_once(op)
    np.testing.assert_array_equal(ws.fetch_blob("out"), ws.fetch_blob("ref"))


def test_empty_indices_and_repeats():
    data = quantize(np.arange(12, dtype=F).reshape(3, 4))
    (y,) = check_reference(OP, [data, np.zeros(0, np.int64)], naive)
    assert y.shape == (0, 4) and y.dtype == F
    (y,) = check_reference(OP, [data, np.array([2, 2, 0], np.int32)], naive)
    np.testing.assert_allclose(y[0], [8, 9, 10, 11], atol=1e-5)


def test_shape_function():
    fn = registry.OPERATORS[("GatherFused8BitRowwise", "")].shape
    (s,) = fn(TensorShape((10, 12), np.uint8), TensorShape((7,), np.int32))
    assert s.dims == (7, 4) and np.dtype(s.dtype) == F
    (s,) = fn(TensorShape(("r", "c"), np.uint8), TensorShape(None, np.int64))
    assert s.dims == ("len(INDICES)", "c-8")


def test_errors():
    data = quantize(np.ones((3, 2), F))
    check_raises(
        OP,
        [data, np.array([0, 3], np.int32)],
        EnforceError,
        r"Index 1 is out of bounds: 3, range 0 to 3",
    )
    check_raises(
        OP,
        [data, np.array([-1], np.int64)],
        EnforceError,
        r"Index 0 is out of bounds: -1, range 0 to 3",
    )
    check_raises(
        OP, [data, np.array([0.0], F)], DTypeError, "Unsupported type of tensor: float"
    )
    check_raises(
        OP, [data[0], np.array([0], np.int32)], ShapeError, "DATA must be a matrix"
    )
    check_raises(
        OP, [data, np.array([[0]], np.int32)], ShapeError, "INDICES must be a vector"
    )
    check_raises(
        OP,
        [np.zeros((2, 8), np.uint8), np.array([0], np.int32)],
        ShapeError,
        r"data.size\(1\) > 8. 8 vs 8. DATA must have more than 8 columns",
    )
    check_raises(
        OP,
        [data.astype(np.int8), np.array([0], np.int32)],
        DTypeError,
        "caller expects elements to be unsigned char while tensor contains",
    )


def test_no_gradient():
    assert registry.GRADIENTS["GatherFused8BitRowwise"].kind == registry.NO_GRADIENT
