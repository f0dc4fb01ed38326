from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from c2l_test_support.dropout import (
    BAD_INPUTS,
    WRONG_OUTPUTS,
    assert_outputs,
    check_wrong_number_of_outputs,
    dropout_net,
    dropout_op,
    ids,
    naive_decisions,
    run_dropout,
)
from caffe2lite.ops.sparse import sparse_dropout_with_replacement as sd
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.schema import registry
from caffe2lite.errors import ArgumentError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

# Every test runs with the compiled kernels and with the numpy ones.
pytestmark = pytest.mark.usefixtures("dropout_kernels")

OP = "SparseDropoutWithReplacement"
run = partial(run_dropout, OP)
net_with = partial(dropout_net, "dropout")
dropout = partial(dropout_op, OP)


def reference(x, lengths, keep, replacement):
    """Segment by segment: a kept segment is copied, a dropped one becomes [replacement]."""
    ys, out_lengths, pos = [], [], 0
    for length, kept in zip(lengths.tolist(), keep):
        if kept:
            ys.extend(x[pos : pos + length].tolist())
            out_lengths.append(length)
        else:
            ys.append(replacement)
            out_lengths.append(1)
        pos += length
    return np.array(ys, dtype=np.int64), np.array(out_lengths, dtype=np.int32)


def naive(x, lengths, ratio, replacement, rng):
    """One decision per segment, in segment order (naive_decisions)."""
    keep = naive_decisions(rng, lengths.shape[0], ratio)
    return reference(x, lengths, keep, replacement)


def test_doc_example_outcomes_match_the_reference():
    x, lengths = (
        np.array([1, 2, 3, 4, 5], dtype=np.int64),
        np.array([2, 3], dtype=np.int32),
    )
    seen = set()
    for seed in range(40):
        got = run(x, lengths, seed, ratio=0.5, replacement_value=-1)
        assert_outputs(got, naive(x, lengths, 0.5, -1, np.random.default_rng(seed)))
        seen.add((tuple(got[0]), tuple(got[1])))
    assert ((1, 2, -1), (2, 1)) in seen  # the doc's printed outcome
    assert len(seen) == 4


@pytest.mark.parametrize("ratio", [0.05, 0.3, 0.5, 0.9, 0.99])
def test_seeded_run_equals_the_naive_reference(ratio):
    rng = np.random.default_rng(int(ratio * 100))
    for seed in range(20):
        x, lengths = ids(rng.integers(0, 6, int(rng.integers(0, 60))), seed)
        got = run(x, lengths, seed, ratio=ratio, replacement_value=-7)
        assert_outputs(got, naive(x, lengths, ratio, -7, np.random.default_rng(seed)))


@pytest.mark.parametrize("window_bits", [0, 1, 2, 5])
@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 9), max_size=60),
    p=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_block_copy_matches_the_reference(window_bits, lengths, p, seed):
    x, lengths = ids(lengths, seed)
    keep = np.random.default_rng(seed).random(lengths.shape[0]) < 1 - p
    with pytest.MonkeyPatch.context() as mp:  # every input of a window or more
        mp.setattr(sd, "_WINDOW_BITS", window_bits)
        mp.setattr(sd, "_WINDOW", 1 << window_bits)
        mp.setattr(sd, "_SMALL", 0)
        got = sd.segment_dropout(x, lengths, keep, 42)
    assert_outputs(got, reference(x, lengths, keep.tolist(), 42))


@pytest.mark.parametrize("mean", [1, 3, 40, 2000])
@pytest.mark.parametrize("p", [0.02, 0.5, 0.97])
def test_large_inputs_match_the_reference(mean, p):
    rng = np.random.default_rng(mean)
    x, lengths = ids(rng.integers(0, 2 * mean + 1, 200_000 // mean + 3), mean)
    for end_kept in (False, True):  # the runs at X's end take the element copy
        keep = rng.random(lengths.shape[0]) < 1 - p
        keep[-3:] = end_kept
        assert_outputs(
            sd.segment_dropout(x, lengths, keep, -1),
            reference(x, lengths, keep.tolist(), -1),
        )


def test_small_inputs_gather_and_large_ones_copy_blocks(monkeypatch):
    calls = []
    for name in ("_gather", "_block_copy"):
        real = getattr(sd, name)
        monkeypatch.setattr(
            sd, name, lambda *a, real=real, name=name: calls.append(name) or real(*a)
        )
    for count in (sd._SMALL // 8 - 1, sd._SMALL // 8):
        x, lengths = ids(np.full(count, 8))
        keep = np.arange(count) % 3 > 0
        assert_outputs(
            sd.segment_dropout(x, lengths, keep, 0),
            reference(x, lengths, keep.tolist(), 0),
        )
    assert calls == ["_gather", "_block_copy"]


def test_a_generator_drawn_by_the_kernel_equals_the_loop():
    x, lengths = ids(np.arange(300) % 5)
    got = sd.sparse_dropout_with_replacement(
        x, lengths, ratio=0.4, replacement_value=0, rng=np.random.default_rng(9)
    )
    assert_outputs(got, naive(x, lengths, 0.4, 0, np.random.default_rng(9)))


def test_ratio_zero_keeps_everything():
    x, lengths = ids([3, 0, 2, 1])
    assert_outputs(run(x, lengths, ratio=0.0, replacement_value=5), (x, lengths))


def test_ratio_one_drops_every_segment_even_empty_ones():
    x, lengths = ids([3, 0, 2, 0, 0, 1])
    y, out_lengths = run(x, lengths, ratio=1.0, replacement_value=-3)
    assert_outputs(
        (y, out_lengths), (np.full(6, -3, dtype=np.int64), np.ones(6, dtype=np.int32))
    )


def test_ratio_given_as_int_one_is_accepted():
    x, lengths = ids([2, 2])
    y, out_lengths = run(x, lengths, ratio=1, replacement_value=9)
    assert_outputs(
        (y, out_lengths), (np.array([9, 9]), np.array([1, 1], dtype=np.int32))
    )


@pytest.mark.parametrize("ratio", [0.0, 0.5, 1.0])
def test_empty_input(ratio):
    x, lengths = ids([])
    assert_outputs(
        run(x, lengths, 1, ratio=ratio), (np.zeros(0, np.int64), np.zeros(0, np.int32))
    )


def test_only_empty_segments():
    x, lengths = ids([0, 0, 0, 0])
    for seed in range(10):
        got = run(x, lengths, seed, ratio=0.5, replacement_value=1)
        assert_outputs(got, naive(x, lengths, 0.5, 1, np.random.default_rng(seed)))


def test_every_output_segment_is_the_input_segment_or_the_replacement():
    rng = np.random.default_rng(3)
    for seed in range(200):
        x, lengths = ids(rng.integers(0, 5, 30), seed)
        y, out_lengths = run(x, lengths, seed, ratio=0.5, replacement_value=-1)
        assert y.dtype == np.int64 and out_lengths.dtype == np.int32
        assert out_lengths.shape == lengths.shape and out_lengths.sum() == y.size
        starts = np.concatenate([[0], np.cumsum(lengths)])
        out_starts = np.concatenate([[0], np.cumsum(out_lengths)])
        for i in range(lengths.size):
            segment = y[out_starts[i] : out_starts[i + 1]].tolist()
            assert segment in (x[starts[i] : starts[i + 1]].tolist(), [-1])


def test_drop_rate_is_within_five_sigma():
    x, lengths = ids(np.full(20000, 2))
    _, out_lengths = run(x, lengths, 12, ratio=0.3, replacement_value=-1)
    dropped = np.mean(out_lengths == 1)
    assert abs(dropped - 0.3) < 5 * np.sqrt(0.3 * 0.7 / 20000)


def test_same_seed_same_result_other_seed_other_result():
    x, lengths = ids(np.full(200, 3))
    a, b, c = (run(x, lengths, s, ratio=0.5) for s in (4, 4, 5))
    assert_outputs(a, b)
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("x, lengths, error, match", BAD_INPUTS)
def test_bad_inputs_raise_and_leave_blobs_unchanged(x, lengths, error, match):
    net, feeds = net_with(dropout(ratio=0.5), X=x, Lengths=lengths)
    err = check_raises(net, feeds, error, match)
    assert err.op_type == OP


@pytest.mark.parametrize("ratio", [-0.1, 1.5, float("nan")])
def test_ratio_outside_zero_one_fails_at_creation(ratio):
    net, feeds = net_with(
        dropout(ratio=ratio), X=np.zeros(1, np.int64), Lengths=np.array([1], np.int32)
    )
    err = check_raises(
        net, feeds, ArgumentError, "^.*Ratio should be a valid probability"
    )
    assert err.arg == "ratio"
    net.external_input.extend(["X", "Lengths"])
    ws = Workspace()
    for name, value in feeds.items():  # net creation needs its inputs to exist
        ws.feed_blob(name, value)
    with pytest.raises(ArgumentError, match="Ratio should be a valid probability"):
        ws.create_net(net)  # creating the op fails, before it runs


@pytest.mark.parametrize("outputs, found", WRONG_OUTPUTS)
def test_wrong_number_of_outputs(outputs, found):
    check_wrong_number_of_outputs("dropout", OP, outputs, found)


def test_replacement_value_must_be_an_int():
    net, feeds = net_with(
        dropout(replacement_value=1.5),
        X=np.zeros(1, np.int64),
        Lengths=np.array([1], np.int32),
    )
    check_raises(
        net,
        feeds,
        ArgumentError,
        "Argument replacement_value does not have the right field: expected field i",
    )


def test_no_gradient_and_documented_example():
    assert registry.gradient_entry(OP).kind == registry.NO_GRADIENT
    doc = registry.lookup(OP).doc
    assert "Example:" in doc and "Y=[1, 2, -1], OutputLengths=[2, 1]" in doc


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator(
        "SparseDropoutWithReplacement", ["X", "L"], ["Y", "LO"], ratio=0.5
    )
    got = infer_op(op, [TensorShape((7,), np.int64), TensorShape((3,), np.int32)])
    assert got == [
        TensorShape(("sum(OutputLengths)",), np.int64),
        TensorShape((3,), np.int32),
    ]
