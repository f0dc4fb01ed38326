"""SparseLengths{Sum,WeightedSum,Mean,WeightedMean}8BitsRowwise against a loop,
Caffe2's test cases (lengths_reducer_rowwise_8bit_ops_test: quantise with
FloatToRowwiseQuantized8Bits, look up, compare with the float op), edges and
errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.builder.operator import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

REDUCERS = ["Sum", "WeightedSum", "Mean", "WeightedMean"]


def op(reducer):
    weighted = reducer.startswith("Weighted")
    inputs = ["D"] + (["W"] if weighted else []) + ["I", "L", "SB"]
    return CreateOperator(f"SparseLengths{reducer}8BitsRowwise", inputs, ["Y"])


def naive(reducer):
    def ref(data, *rest):
        weights = rest[0] if reducer.startswith("Weighted") else None
        indices, lengths, sb = rest[-3], rest[-2], rest[-1]
        flat = data.reshape(data.shape[0], int(np.prod(data.shape[1:])))
        out, pos = [], 0
        for n in lengths.tolist():
            acc = [0.0] * flat.shape[1]
            for _ in range(n):
                r = int(indices[pos])
                w = 1.0 if weights is None else float(weights[pos])
                for j, c in enumerate(flat[r].tolist()):
                    acc[j] += w * (c * float(sb[r, 0]) + float(sb[r, 1]))
                pos += 1
            out.append([a / n for a in acc] if reducer.endswith("Mean") and n else acc)
        return [np.array(out, np.float32).reshape((len(lengths),) + data.shape[1:])]

    return ref


@pytest.mark.parametrize("reducer", REDUCERS)
@settings(max_examples=20, deadline=None)
@given(
    shape=st.sampled_from([(4, 3), (2, 2, 2), (5,), (3, 0)]),
    lengths=st.lists(st.integers(0, 4), max_size=5),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_loop(reducer, shape, lengths, index_type, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, shape).astype(np.uint8)
    sb = rng.standard_normal((shape[0], 2)).astype(np.float32)
    lengths = np.array(lengths, np.int32)
    indices = rng.integers(0, shape[0], int(lengths.sum())).astype(index_type)
    inputs = [data, indices, lengths, sb]
    if reducer.startswith("Weighted"):
        inputs.insert(1, rng.standard_normal(indices.size).astype(np.float32))
    check_reference(op(reducer), inputs, naive(reducer), atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize("reducer", ["Sum", "WeightedSum", "Mean"])
def test_caffe2_case_quantize_then_lookup_is_close_to_float(reducer):
    rng = np.random.default_rng(11)
    x = rng.random((15, 8)).astype(np.float32)
    lengths = np.array([2, 0, 4, 3], np.int32)
    indices = rng.integers(0, 15, lengths.sum()).astype(np.int64)
    weights = rng.random(indices.size).astype(np.float32)
    ws = Workspace()
    for name, value in {"X": x, "I": indices, "L": lengths, "W": weights}.items():
        ws.feed_blob(name, value)
    ws.run_operator_once(
        CreateOperator("FloatToRowwiseQuantized8Bits", ["X"], ["D", "SB"])
    )
    ws.run_operator_once(op(reducer))
    float_inputs = ["X", "W", "I", "L"] if reducer == "WeightedSum" else ["X", "I", "L"]
    ws.run_operator_once(CreateOperator(f"SparseLengths{reducer}", float_inputs, ["R"]))
    np.testing.assert_allclose(ws.fetch_blob("Y"), ws.fetch_blob("R"), atol=0.02)


def test_errors():
    data = np.zeros((3, 2), np.uint8)
    sb = np.ones((3, 2), np.float32)
    i, n = np.array([0, 1]), np.array([2], np.int32)
    s = op("Sum")
    check_raises(s, [data, i, n, sb.astype(np.float64)], DTypeError, "caller expects")
    check_raises(
        s, [data, i, n.reshape(1, 1), sb], ShapeError, "LENGTHS must be a vector"
    )
    check_raises(s, [data, i, n, sb.ravel()], ShapeError, "scale_bias has to be matrix")
    check_raises(
        s,
        [data, i, n, sb[:2]],
        ShapeError,
        "scale_bias must have the same first dim as data",
    )
    check_raises(
        s,
        [data, i, n, np.ones((3, 3), np.float32)],
        ShapeError,
        "the second dim of scale_bias has to be equal to 2",
    )
    check_raises(
        s, [data, i.reshape(1, 2), n, sb], ShapeError, "INDICES must be a vector"
    )
    check_raises(s, [data.astype(np.int8), i, n, sb], DTypeError, "unsigned char")
    check_raises(
        s,
        [data, np.array([0, 5]), n, sb],
        EnforceError,
        "Index 1 is out of bounds: 5, range 0 to 3",
    )
    check_raises(
        op("WeightedSum"),
        [data, np.ones(3, np.float32), i, n, sb],
        EnforceError,
        "one value per index",
    )


@pytest.mark.parametrize("reducer", REDUCERS)
def test_no_gradient(reducer):
    entry = registry.GRADIENTS[f"SparseLengths{reducer}8BitsRowwise"]
    assert entry.kind == registry.NO_GRADIENT
