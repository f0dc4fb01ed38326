"""GatherRangesToDense: a naive loop, Caffe2's gather_ranges_to_dense_op_test cases
(with and without KEY, empty and mismatched ranges, the ratio limits over runs),
errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, ShapeError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def op(lengths, with_key=False, **kw):
    ins = ["D", "R"] + (["K"] if with_key else [])
    return CreateOperator(
        "GatherRangesToDense",
        ins,
        [f"Y{j}" for j in range(len(lengths))],
        lengths=lengths,
        **kw,
    )


def naive(lengths):
    def ref(data, ranges, *key):
        outs = []
        for j, n in enumerate(lengths):
            rows = []
            for b in range(ranges.shape[0]):
                start, size = (int(v) for v in ranges[b, j])
                if size != n:
                    rows.append([0] * n)
                    continue
                items = list(range(start, start + size))
                if key:
                    items.sort(key=lambda p: int(key[0][p]))
                rows.append([data[p] for p in items])
            outs.append(np.array(rows, data.dtype).reshape(ranges.shape[0], n))
        return outs

    return ref


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(0, 4),
    lengths=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    with_key=st.booleans(),
    itype=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(batch, lengths, with_key, itype, seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(20).astype(np.float32)
    ranges = np.zeros((batch, len(lengths), 2), itype)
    for b in range(batch):
        for j, n in enumerate(lengths):
            size = int(rng.choice([0, n, n, n + 1]))
            ranges[b, j] = (rng.integers(0, 20 - size + 1), size)
    ins = [data, ranges] + ([rng.permutation(20).astype(np.int64)] if with_key else [])
    testing.check_reference(
        op(lengths, with_key, max_mismatched_ratio=1.0), ins, naive(lengths)
    )


def test_caffe2_doc_case_with_key():
    data = np.array([1, 2, 3, 4, 5, 6, 7, 8], np.float32)
    key = np.array([0, 1, 3, 2, 1, 0, 1, 0], np.int64)
    ranges = np.array([[[2, 4], [0, 2]], [[0, 0], [6, 2]]], np.int32)
    y0, y1 = testing.check_reference(
        op([4, 2], True), [data, ranges, key], naive([4, 2])
    )
    assert y0.tolist() == [[6, 5, 4, 3], [0, 0, 0, 0]]
    assert y1.tolist() == [[1, 2], [8, 7]]


def _run_twice(o, feeds):
    net = caffe2_pb2.NetDef(name="g")
    net.op.append(o)
    ws = Workspace()
    for k, v in feeds.items():
        ws.feed_blob(k, v)
    ws.create_net(net)
    ws.run_net("g")
    return ws


def test_mismatch_and_empty_ratios_over_runs():
    data = np.arange(10, dtype=np.float32)
    ranges = np.array([[[0, 2]], [[0, 3]]], np.int32)  # one mismatched of two
    o = op([2], max_mismatched_ratio=0.5, min_observation=1)
    ws = _run_twice(o, {"D": data, "R": ranges})
    ws.feed_blob("R", np.array([[[0, 3]], [[0, 3]]], np.int32))
    with pytest.raises(
        EnforceError,
        match=r"Ratio of range length mismatch for feature "
        r"at index 0 is 0.75 \(3/4\) which exceeds 0.5. The incorrect "
        r"lengths include: \[3\]",
    ):
        ws.run_net("g")
    o = op([2], max_empty_ratio=0.4, min_observation=1)
    with pytest.raises(
        EnforceError,
        match=r"Ratio of empty ranges for feature at index "
        r"0 is 0.5 \(1/2\) which exceeds 0.4",
    ):
        _run_twice(o, {"D": data, "R": np.array([[[0, 2]], [[0, 0]]], np.int32)})


def test_errors():
    d, r = np.arange(4, dtype=np.float32), np.array([[[0, 2]]], np.int32)
    empty = CreateOperator("GatherRangesToDense", ["D", "R"], ["Y0"])
    testing.check_raises(empty, [d, r], ArgumentError, "There has to be at least one")
    testing.check_raises(
        op([0]), [d, r], ArgumentError, "Each length should be positive"
    )
    testing.check_raises(
        op([2], min_observation=0),
        [d, r],
        ArgumentError,
        "The number of observations is at least 1",
    )
    testing.check_raises(
        op([2]), [d.reshape(2, 2), r], ShapeError, "Data has to be 1-D"
    )
    testing.check_raises(op([2]), [d, r[0]], ShapeError, "Ranges has to be 3-D")
    testing.check_raises(
        op([2], True),
        [d, r, np.zeros(4, np.int32)],
        DTypeError,
        "Key has to be type int64_t",
    )
    testing.check_raises(
        op([2, 1]),
        [d, r],
        ShapeError,
        "Number of ranges should match number of lengths",
    )
    testing.check_raises(
        op([2]),
        [d, np.zeros((1, 1, 3), np.int32)],
        ShapeError,
        "Ranges last dimension should be of size 2",
    )
    testing.check_raises(
        op([2]),
        [d, np.array([[[3, 2]]], np.int32)],
        EnforceError,
        "range out of DATA's bounds",
    )


def test_gradient_decision():
    assert registry.GRADIENTS["GatherRangesToDense"].kind == registry.NO_GRADIENT
