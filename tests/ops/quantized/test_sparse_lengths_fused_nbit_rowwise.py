"""SparseLengths{Sum,WeightedSum,Mean}Fused{4,2}BitRowwise against a loop over the
de-quantised rows, Caffe2's test cases (lengths_reducer_fused_nbit_rowwise_ops_test:
the lookups equal the float lookups on the de-quantised table), edges and errors."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.kernels import embedding_kernels  # noqa: F401 (autouse)
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

REDUCERS = ["Sum", "WeightedSum", "Mean"]


def op(reducer, bits):
    inputs = ["D", "W", "I", "L"] if reducer == "WeightedSum" else ["D", "I", "L"]
    return CreateOperator(f"SparseLengths{reducer}Fused{bits}BitRowwise", inputs, ["Y"])


def dequantize_row(row, bits):
    k = 8 // bits
    scale, bias = (float(v) for v in np.frombuffer(bytes(row[-4:].tolist()), "<f2"))
    codes = [
        (int(row[c // k]) >> ((c % k) * bits)) & ((1 << bits) - 1)
        for c in range((len(row) - 4) * k)
    ]
    return [scale * c + bias for c in codes]


def naive(reducer, bits):
    def ref(data, *rest):
        weights = rest[0] if reducer == "WeightedSum" else None
        indices, lengths = rest[-2], rest[-1]
        block = (data.shape[1] - 4) * (8 // bits)
        out, pos = [], 0
        for n in lengths.tolist():
            acc = [0.0] * block
            for _ in range(n):
                w = 1.0 if weights is None else float(weights[pos])
                row = dequantize_row(data[int(indices[pos])], bits)
                acc = [a + w * v for a, v in zip(acc, row)]
                pos += 1
            out.append([a / n for a in acc] if reducer == "Mean" and n else acc)
        return [np.array(out, np.float32).reshape(len(lengths), block)]

    return ref


def table(rng, rows, cols, bits):
    x = rng.standard_normal((rows, cols)).astype(np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(
        CreateOperator(f"FloatToFused{bits}BitRowwiseQuantized", ["X"], ["Q"])
    )
    return ws.fetch_blob("Q")


@pytest.mark.parametrize("bits", [4, 2])
@pytest.mark.parametrize("reducer", REDUCERS)
@settings(max_examples=15, deadline=None)
@given(
    rows=st.integers(1, 8),
    width=st.integers(1, 4),
    lengths=st.lists(st.integers(0, 5), max_size=6),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(reducer, bits, rows, width, lengths, index_type, seed):
    rng = np.random.default_rng(seed)
    data = table(rng, rows, width * (8 // bits), bits)
    lengths = np.array(lengths, np.int32)
    indices = rng.integers(0, rows, int(lengths.sum())).astype(index_type)
    inputs = [data, indices, lengths]
    if reducer == "WeightedSum":
        inputs.insert(1, rng.standard_normal(indices.size).astype(np.float32))
    check_reference(
        op(reducer, bits), inputs, naive(reducer, bits), atol=1e-4, rtol=1e-4
    )


@pytest.mark.parametrize("bits", [4, 2])
@pytest.mark.parametrize("reducer", REDUCERS)
def test_caffe2_case_equals_float_op_on_dequantized_table(reducer, bits):
    rng = np.random.default_rng(5)
    data = table(rng, 30, 16, bits)
    lengths = np.array([4, 0, 2, 9], np.int32)
    indices = rng.integers(0, 30, lengths.sum()).astype(np.int32)
    weights = rng.random(indices.size).astype(np.float32)
    ws = Workspace()
    for name, value in {"D": data, "I": indices, "L": lengths, "W": weights}.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(
        CreateOperator(f"Fused{bits}BitRowwiseQuantizedToFloat", ["D"], ["F"])
    )
    float_inputs = ["F", "W", "I", "L"] if reducer == "WeightedSum" else ["F", "I", "L"]
    ws.run_operator_once(CreateOperator(f"SparseLengths{reducer}", float_inputs, ["R"]))
    ws.run_operator_once(op(reducer, bits))
    np.testing.assert_allclose(
        ws.fetch_blob("Y"), ws.fetch_blob("R"), rtol=1e-5, atol=1e-5
    )


def test_errors():
    data = table(np.random.default_rng(0), 3, 4, 4)
    i, n = np.array([0, 2], np.int64), np.array([2], np.int32)
    check_raises(
        op("Sum", 4),
        [data[:, :4], i, n],
        ShapeError,
        "DATA must have more than 4 columns",
    )
    check_raises(
        op("Mean", 2),
        [data, np.array([0, -1]), n],
        EnforceError,
        r"Index 1 is out of bounds: -1, range 0 to 3",
    )
    check_raises(
        op("WeightedSum", 4),
        [data, np.ones(1, np.float32), i, n],
        EnforceError,
        "WEIGHTS should have the same length as INDICES.",
    )


@pytest.mark.parametrize("bits", [4, 2])
@pytest.mark.parametrize("reducer", REDUCERS)
def test_no_gradient(reducer, bits):
    entry = registry.GRADIENTS[f"SparseLengths{reducer}Fused{bits}BitRowwise"]
    assert entry.kind == registry.NO_GRADIENT


@pytest.mark.parametrize("bits", [4, 2])
@pytest.mark.parametrize("reducer", REDUCERS)
def test_segments_span_chunks(reducer, bits, monkeypatch):
    # The numpy kernel decodes the codes of about SEQUENTIAL_CHUNK_BYTES of rows at a
    # time; at the smallest chunks, groups of segments are padded and long segments
    # carry their sum from chunk to chunk.
    from caffe2lite.ops.segment import _segment_kernels

    monkeypatch.setattr(_segment_kernels, "SEQUENTIAL_CHUNK_BYTES", 1)
    rng = np.random.default_rng(9)
    lengths = rng.integers(0, 40, 100).astype(np.int32)
    lengths[3] = 300
    n = int(lengths.sum())
    for rows in (n + 500, 50):
        data = table(rng, rows, 8, bits)
        indices = rng.integers(0, rows, n)
        inputs = [data, indices, lengths]
        if reducer == "WeightedSum":
            inputs.insert(1, rng.standard_normal(n).astype(np.float32))
        check_reference(
            op(reducer, bits), inputs, naive(reducer, bits), atol=1e-3, rtol=1e-4
        )
