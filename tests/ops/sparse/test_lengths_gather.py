"""LengthsGather: a naive loop, Caffe2's utility_ops_test case, edges and errors."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema import registry

OP = CreateOperator("LengthsGather", ["X", "L", "I"], ["Y"])


def naive(items, lengths, indices):
    offsets, acc = [], 0
    for n in lengths.tolist():
        offsets.append(acc)
        acc += n
    rows = []
    for i in indices.tolist():
        rows.extend(items[offsets[i] : offsets[i] + lengths[i]])
    return [np.array(rows, items.dtype).reshape((-1,) + items.shape[1:])]


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 4), min_size=1, max_size=6),
    tail=st.sampled_from([(), (2,)]),
    itype=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(lengths, tail, itype, seed):
    rng = np.random.default_rng(seed)
    lengths = np.array(lengths, np.int32)
    items = rng.standard_normal((int(lengths.sum()),) + tail).astype(np.float32)
    indices = rng.integers(0, lengths.size, rng.integers(0, 6)).astype(itype)
    testing.check_reference(OP, [items, lengths, indices], naive)


def test_caffe2_doc_case_and_strings():
    (y,) = testing.check_reference(
        OP,
        [np.arange(10), np.array([0, 2, 3, 1, 4], np.int32), np.array([0, 2, 4])],
        naive,
    )
    assert y.tolist() == [2, 3, 4, 6, 7, 8, 9]
    s = np.array([b"a", b"b", b"c"], object)
    (y,) = testing.check_reference(
        OP, [s, np.array([1, 2], np.int32), np.array([1, 0])], naive
    )
    assert y.tolist() == [b"b", b"c", b"a"]


def test_errors():
    x, L, i = np.arange(3), np.array([1, 2], np.int32), np.array([0, 1])
    testing.check_raises(
        OP,
        [x, L, i.astype(np.float32)],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(
        OP, [np.array(1), L, i], ShapeError, "ITEMS should be at least 1-D"
    )
    testing.check_raises(
        OP, [x, L.reshape(1, 2), i], ShapeError, "LENGTHS should be 1-D"
    )
    testing.check_raises(
        OP, [x, L, i.reshape(1, 2)], ShapeError, "INDICES should be 1-D"
    )
    testing.check_raises(OP, [x, L.astype(np.int64), i], DTypeError, "caller expects")
    testing.check_raises(
        OP, [x, L, np.array([2])], EnforceError, r"idx < lengths.numel\(\). 2 vs 2"
    )
    testing.check_raises(OP, [x, L, np.array([-1])], EnforceError, "out of bounds")
    testing.check_raises(
        OP,
        [np.arange(4), L, i],
        EnforceError,
        "LENGTHS must match the first dimension of ITEMS",
    )


def test_gradient_decision():
    assert registry.GRADIENTS["LengthsGather"].kind == registry.SHOULD_NOT_DO
