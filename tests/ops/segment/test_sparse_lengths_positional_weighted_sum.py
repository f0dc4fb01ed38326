"""SparseLengthsPositionalWeightedSum: a naive loop, the identity with
LengthsRangeFill + Gather + SparseLengthsWeightedSum (Caffe2's definition), edges and
errors."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

OP = CreateOperator("SparseLengthsPositionalWeightedSum", ["D", "W", "I", "L"], ["Y"])


def naive(data, weight, indices, lengths):
    out, pos = [], 0
    for n in lengths.tolist():
        acc = np.zeros(data.shape[1:], np.float64)
        for j in range(n):
            acc = acc + float(weight[j]) * data[int(indices[pos])].astype(np.float64)
            pos += 1
        out.append(acc)
    dtype = np.float64 if data.dtype == np.float64 else np.float32
    return [
        np.array(out, np.float64)
        .reshape((len(lengths),) + data.shape[1:])
        .astype(dtype)
    ]


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 5), max_size=6),
    dtype=st.sampled_from([np.float32, np.float16, np.float64]),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(lengths, dtype, index_type, seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((6, 3)).astype(dtype)
    lengths = np.array(lengths, np.int32)
    indices = rng.integers(0, 6, int(lengths.sum())).astype(index_type)
    wtype = np.float64 if dtype == np.float64 else np.float32
    weight = rng.standard_normal(6).astype(wtype)
    testing.check_reference(OP, [data, weight, indices, lengths], naive, atol=1e-3)


def test_equals_range_fill_gather_weighted_sum():
    rng = np.random.default_rng(1)
    feeds = {
        "D": rng.standard_normal((8, 4)).astype(np.float32),
        "W": rng.standard_normal(5).astype(np.float32),
        "I": rng.integers(0, 8, 9),
        "L": np.array([3, 0, 5, 1], np.int32),
    }
    ws = Workspace()
    for k, v in feeds.items():
        ws.feed_blob(k, v)
    ws.run_operator_once(OP)
    ws.run_operator_once(CreateOperator("LengthsRangeFill", ["L"], ["R"]))
    ws.run_operator_once(CreateOperator("Gather", ["W", "R"], ["WW"]))
    ws.run_operator_once(
        CreateOperator("SparseLengthsWeightedSum", ["D", "WW", "I", "L"], ["Z"])
    )
    np.testing.assert_allclose(ws.fetch_blob("Y"), ws.fetch_blob("Z"), rtol=1e-6)


def test_no_indices_gives_zeros_before_any_check():
    data = np.ones((3, 2), np.float32)
    (y,) = testing.check_reference(
        OP,
        [
            data,
            np.ones((2, 2), np.float32),
            np.zeros(0, np.int64),
            np.array([0, 0], np.int32),
        ],
        naive,
    )
    assert y.tolist() == [[0, 0], [0, 0]]


def test_errors():
    d, w = np.ones((3, 2), np.float32), np.ones(3, np.float32)
    i, n = np.array([0, 1, 2]), np.array([2, 1], np.int32)
    testing.check_raises(
        OP, [d.astype(np.int32), w, i, n], DTypeError, "Unsupported type of tensor: int"
    )
    testing.check_raises(
        OP,
        [d, w, i.astype(np.float32), n],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(
        OP, [d, w, i.reshape(3, 1), n], ShapeError, "INDICES must be a vector"
    )
    testing.check_raises(
        OP, [d, w, i, n.reshape(2, 1)], ShapeError, "LENGTHS must be a vector"
    )
    testing.check_raises(
        OP, [d, w.reshape(3, 1), i, n], ShapeError, "WEIGHT must be a vector"
    )
    testing.check_raises(
        OP,
        [d, w.astype(np.float64), i, n],
        DTypeError,
        "caller expects elements to be float",
    )
    testing.check_raises(
        OP,
        [d, w[:1], i, n],
        EnforceError,
        "WEIGHT has 1 entries but a segment has 2 indices",
    )
    testing.check_raises(
        OP,
        [d, w, np.array([0, 5, 1]), n],
        EnforceError,
        r"Index 1 is out of bounds: 5, range 0 to 3",
    )
    testing.check_raises(
        OP,
        [d, w, i, np.array([1, 1], np.int32)],
        EnforceError,
        "the sum of lengths values should be the size of the indices",
    )


def test_gradient_decision():
    entry = registry.GRADIENTS["SparseLengthsPositionalWeightedSum"]
    assert entry.kind == registry.NOT_IMPLEMENTED_YET
