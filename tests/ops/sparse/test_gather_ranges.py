from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError, ShapeError
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

REALNETS = "/work/shared/realnets/glow_caffe2Models"


def naive_gather_ranges(data, ranges):
    out, lengths = [], []
    for example in ranges.tolist():
        total = 0
        for start, length in example:
            out.extend(data[start : start + length].tolist())
            total += length
        lengths.append(total)
    return [np.array(out, data.dtype), np.array(lengths, np.int32)]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 4),
    m=st.integers(1, 3),
    size=st.integers(0, 8),
    dtype=st.sampled_from([np.float32, np.int64, np.int32]),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(n, m, size, dtype, index_type, seed):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal(size) * 10).astype(dtype)
    starts = rng.integers(0, size + 1, (n, m))
    lengths = rng.integers(0, size + 1 - starts)
    ranges = np.stack([starts, lengths], axis=-1).astype(index_type)
    testing.check_reference(
        CreateOperator("GatherRanges", ["D", "R"], ["O", "L"]),
        [data, ranges],
        naive_gather_ranges,
        atol=0,
    )


def test_doc_example():
    testing.check_reference(
        CreateOperator("GatherRanges", ["D", "R"], ["O", "L"]),
        [
            np.array([1, 2, 3, 4, 5, 6], np.float32),
            np.array([[[0, 1], [2, 2]], [[4, 1], [5, 1]]], np.int32),
        ],
        lambda d, r: [
            np.array([1, 3, 4, 5, 6], np.float32),
            np.array([3, 2], np.int32),
        ],
        atol=0,
    )


def test_errors():
    op = CreateOperator("GatherRanges", ["D", "R"], ["O", "L"])
    data = np.arange(5, dtype=np.float32)
    ranges = np.array([[[0, 2]]], np.int32)
    testing.check_raises(
        op, [data.reshape(5, 1), ranges], ShapeError, "Data has to be 1-D"
    )
    testing.check_raises(op, [data, ranges[0]], ShapeError, "Ranges must be 3-D")
    testing.check_raises(
        op,
        [data, np.zeros((1, 0, 2), np.int32)],
        ShapeError,
        "There has to be at least one range",
    )
    testing.check_raises(
        op,
        [data, np.zeros((1, 1, 3), np.int32)],
        ShapeError,
        "Ranges last dimention should be of size 2",
    )
    testing.check_raises(
        op,
        [data, ranges.astype(np.float32)],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(
        op,
        [data, np.array([[[4, 2]]], np.int64)],
        EnforceError,
        re.escape("rangeStart + rangeLength <= data.numel()"),
    )
    testing.check_raises(
        op,
        [data, np.array([[[1, -1]]], np.int64)],
        EnforceError,
        "Range start and length must be non-negative",
    )


def test_no_gradient():
    op = CreateOperator("GatherRanges", ["D", "R"], ["O", "L"])
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"O": "O_grad"})


def test_glow_gather_ranges_net():
    # Caffe2ImporterTest.gatherRanges: data {6} float, ranges {2, 2, 2} int32; it expects an
    # output of dims {5} and lengths of dims {2} (shapes only; values from the Caffe2 doc).
    net = load_net(f"{REALNETS}/gather_ranges.pbtxt")
    ws = Workspace()
    ws.feed_blob("data", np.array([1, 2, 3, 4, 5, 6], np.float32))
    ws.feed_blob("ranges", np.array([[[0, 1], [2, 2]], [[4, 1], [5, 1]]], np.int32))
    ws.run_net_once(net)
    np.testing.assert_array_equal(ws.fetch_blob("output"), [1, 3, 4, 5, 6])
    np.testing.assert_array_equal(ws.fetch_blob("lengths"), [3, 2])
    assert ws.fetch_blob("lengths").dtype == np.int32


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("GatherRanges", ["D", "R"], ["O", "L"])
    got = infer_op(op, [TensorShape((9,), np.int64), TensorShape((4, 2, 2), np.int32)])
    assert got == [
        TensorShape(("sum(RANGES lengths)",), np.int64),
        TensorShape((4,), np.int32),
    ]
