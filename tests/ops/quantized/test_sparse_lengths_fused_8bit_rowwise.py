"""SparseLengths{Sum,WeightedSum,Mean}Fused8BitRowwise against a loop over the
de-quantised rows, Caffe2's test cases (lengths_reducer_fused_8bit_rowwise_ops_test:
the fused lookups equal the float lookups on the de-quantised table), edges and
errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from c2l_test_support.kernels import embedding_kernels  # noqa: F401 (autouse)
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

REDUCERS = ["Sum", "WeightedSum", "Mean"]


def op(reducer):
    inputs = ["D", "W", "I", "L"] if reducer == "WeightedSum" else ["D", "I", "L"]
    return CreateOperator(f"SparseLengths{reducer}Fused8BitRowwise", inputs, ["Y"])


def dequantize_row(row):
    scale, bias = struct.unpack("<ff", bytes(row[-8:].tolist()))
    return [c * scale + bias for c in row[:-8].tolist()]


def naive(reducer):
    def ref(data, *rest):
        weights = rest[0] if reducer == "WeightedSum" else None
        indices, lengths = rest[-2], rest[-1]
        out, pos = [], 0
        for n in lengths.tolist():
            acc = [0.0] * (data.shape[1] - 8)
            for _ in range(n):
                w = 1.0 if weights is None else float(weights[pos])
                for j, v in enumerate(dequantize_row(data[int(indices[pos])])):
                    acc[j] += w * v
                pos += 1
            if reducer == "Mean" and n:
                acc = [a / n for a in acc]
            out.append(acc)
        return [np.array(out, np.float32).reshape(len(lengths), data.shape[1] - 8)]

    return ref


def table(rng, rows, cols):
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(
        CreateOperator("FloatToFused8BitRowwiseQuantized", ["X"], ["Q"])
    )
    return x, ws.fetch_blob("Q")


@pytest.mark.parametrize("reducer", REDUCERS)
@settings(max_examples=20, deadline=None)
@given(
    rows=st.integers(1, 8),
    cols=st.integers(1, 9),
    lengths=st.lists(st.integers(0, 5), max_size=6),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(reducer, rows, cols, lengths, index_type, seed):
    rng = np.random.default_rng(seed)
    _, data = table(rng, rows, cols)
    lengths = np.array(lengths, np.int32)
    indices = rng.integers(0, rows, int(lengths.sum())).astype(index_type)
    inputs = [data, indices, lengths]
    if reducer == "WeightedSum":
        inputs.insert(1, rng.standard_normal(indices.size).astype(np.float32))
    check_reference(op(reducer), inputs, naive(reducer), atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("reducer", REDUCERS)
def test_caffe2_case_equals_float_op_on_dequantized_table(reducer):
    rng = np.random.default_rng(7)
    _, data = table(rng, 20, 16)
    lengths = np.array([3, 0, 5, 1, 7], np.int32)
    indices = rng.integers(0, 20, lengths.sum()).astype(np.int64)
    weights = rng.random(indices.size).astype(np.float32)
    ws = Workspace()
    for name, value in {"D": data, "I": indices, "L": lengths, "W": weights}.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(
        CreateOperator("Fused8BitRowwiseQuantizedToFloat", ["D"], ["F"])
    )
    float_inputs = ["F", "W", "I", "L"] if reducer == "WeightedSum" else ["F", "I", "L"]
    ws.run_operator_once(CreateOperator(f"SparseLengths{reducer}", float_inputs, ["R"]))
    ws.run_operator_once(op(reducer))
    np.testing.assert_allclose(
        ws.fetch_blob("Y"), ws.fetch_blob("R"), rtol=1e-5, atol=1e-5
    )


def test_large_input_spans_several_chunks():
    rng = np.random.default_rng(2)
    _, data = table(rng, 50, 64)
    lengths = rng.integers(0, 200, 40).astype(np.int32)
    indices = rng.integers(0, 50, lengths.sum()).astype(np.int32)
    check_reference(
        op("Sum"), [data, indices, lengths], naive("Sum"), atol=1e-3, rtol=1e-5
    )


def test_empty_lookups():
    _, data = table(np.random.default_rng(0), 3, 2)
    y = check_reference(
        op("Mean"), [data, np.zeros(0, np.int64), np.zeros(2, np.int32)], naive("Mean")
    )[0]
    assert y.tolist() == [[0, 0], [0, 0]]


def test_errors():
    _, data = table(np.random.default_rng(0), 3, 2)
    i, n = np.array([0, 1], np.int64), np.array([2], np.int32)
    s = op("Sum")
    check_raises(
        s,
        [data, i.astype(np.float32), n],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    check_raises(s, [data, i.reshape(2, 1), n], ShapeError, "INDICES must be a vector")
    check_raises(s, [data, i, n.reshape(1, 1)], ShapeError, "LENGTHS must be a vector")
    check_raises(
        s, [data[:, :8], i, n], ShapeError, "DATA must have more than 8 columns"
    )
    check_raises(s, [data.astype(np.float32), i, n], DTypeError, "unsigned char")
    check_raises(
        s,
        [data, np.array([0, 3]), n],
        EnforceError,
        r"Index 1 is out of bounds: 3, range 0 to 3",
    )
    check_raises(
        s,
        [data, i, np.array([1], np.int32)],
        EnforceError,
        "Your input seems to be incorrect: the sum of lengths values should be "
        "the size of the indices tensor, but it appears not.",
    )
    check_raises(
        s,
        [data, i, np.array([3], np.int32)],
        EnforceError,
        "current < index_size. 2 vs 2",
    )
    check_raises(
        s, [data, i, np.array([3, -1], np.int32)], EnforceError, "non-negative"
    )
    w = op("WeightedSum")
    check_raises(
        w,
        [data, np.ones(3, np.float32), i, n],
        EnforceError,
        "WEIGHTS should have the same length as INDICES.",
    )
    check_raises(
        w,
        [data, np.ones((2, 1), np.float32), i, n],
        ShapeError,
        "WEIGHTS must be a vector",
    )
    check_raises(w, [data, np.ones(2), i, n], DTypeError, "caller expects")


@pytest.mark.parametrize("reducer", REDUCERS)
def test_no_gradient(reducer):
    entry = registry.GRADIENTS[f"SparseLengths{reducer}Fused8BitRowwise"]
    assert entry.kind == registry.NO_GRADIENT
