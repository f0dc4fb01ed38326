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
from caffe2lite.ops.sparse import sparse_itemwise_dropout_with_replacement as si

from caffe2lite.schema import registry
from caffe2lite.errors import ArgumentError
from caffe2lite.testing import check_raises

# Every test runs with the compiled kernels and with the numpy ones.
pytestmark = pytest.mark.usefixtures("dropout_kernels")

OP = "SparseItemwiseDropoutWithReplacement"
run = partial(run_dropout, OP)
net_with = partial(dropout_net, "itemwise")
dropout = partial(dropout_op, OP)


def naive(x, lengths, ratio, replacement, rng):
    """One decision per element, in order (naive_decisions); segments play no
    part."""
    keep = naive_decisions(rng, x.shape[0], ratio)
    ys = [v if kept else replacement for v, kept in zip(x.tolist(), keep)]
    return np.array(ys, dtype=np.int64), lengths.copy()


@pytest.mark.parametrize("ratio", [0.05, 0.1, 0.5, 0.7, 0.95, 1 / 256, 0.999])
def test_seeded_run_equals_the_naive_reference(ratio):
    rng = np.random.default_rng(int(ratio * 100))
    for seed in range(20):
        x, lengths = ids(rng.integers(0, 6, int(rng.integers(0, 40))), seed)
        got = run(x, lengths, seed, ratio=ratio, replacement_value=-7)
        assert_outputs(got, naive(x, lengths, ratio, -7, np.random.default_rng(seed)))


def test_doc_example_is_a_possible_outcome():
    x, lengths = (
        np.array([1, 2, 3, 4, 5], dtype=np.int64),
        np.array([2, 3], dtype=np.int32),
    )
    seen = set()
    for seed in range(200):
        y, out_lengths = run(x, lengths, seed, ratio=0.5, replacement_value=-1)
        np.testing.assert_array_equal(out_lengths, lengths)
        seen.add(tuple(y))
    assert (1, -1, 3, -1, 5) in seen
    doc = registry.lookup(OP).doc
    assert "Example:" in doc and "Y=[1, -1, 3, -1, 5], OutputLengths=[2, 3]" in doc


def test_ratio_zero_and_one():
    x, lengths = ids([3, 0, 2])
    assert_outputs(run(x, lengths, ratio=0.0, replacement_value=4), (x, lengths))
    assert_outputs(
        run(x, lengths, ratio=1.0, replacement_value=4),
        (np.full(5, 4, dtype=np.int64), lengths),
    )
    assert_outputs(
        run(x, lengths, ratio=1, replacement_value=4),  # an int ratio
        (np.full(5, 4, dtype=np.int64), lengths),
    )


@pytest.mark.parametrize("lengths", [[], [0], [0, 0]])
@pytest.mark.parametrize("ratio", [0.0, 0.5, 1.0])
def test_empty_input(lengths, ratio):
    x, lengths = ids(lengths)
    assert_outputs(run(x, lengths, 1, ratio=ratio), (np.zeros(0, np.int64), lengths))


@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9])
def test_chunks_continue_one_stream(monkeypatch, ratio):
    """Chunk by chunk (sizes a multiple of 8, the last one short), with ties in
    several chunks, the result is the one-stream reference."""
    monkeypatch.setattr(si, "_CHUNK", 24)
    x, lengths = ids(np.full(50, 3), 1)
    got = si.itemwise_dropout(x, np.random.default_rng(4), ratio, -1)
    want, _ = naive(x, lengths, ratio, -1, np.random.default_rng(4))
    np.testing.assert_array_equal(got, want)


def test_extreme_values_are_copied_and_written_exactly():
    x = np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min, 0, -1] * 64)
    lengths = np.array([x.shape[0]], dtype=np.int32)
    for replacement in (np.iinfo(np.int64).min, np.iinfo(np.int64).max, 0):
        for ratio in (0.2, 0.8):
            got = si.itemwise_dropout(x, np.random.default_rng(0), ratio, replacement)
            want, _ = naive(x, lengths, ratio, replacement, np.random.default_rng(0))
            np.testing.assert_array_equal(got, want)


def test_outputs_keep_lengths_and_every_value_is_kept_or_replaced():
    rng = np.random.default_rng(2)
    for seed in range(50):
        x, lengths = ids(rng.integers(0, 5, 20), seed)
        y, out_lengths = run(x, lengths, seed, ratio=0.5, replacement_value=-1)
        assert y.shape == x.shape and y.dtype == np.int64
        np.testing.assert_array_equal(out_lengths, lengths)
        assert np.all((y == x) | (y == -1))


def test_drop_rate_is_within_five_sigma():
    x, lengths = ids(np.full(10000, 2))
    y, _ = run(x, lengths, 8, ratio=0.3, replacement_value=-1)
    dropped = np.mean(y == -1)
    assert abs(dropped - 0.3) < 5 * np.sqrt(0.3 * 0.7 / x.size)


def test_same_seed_same_result_other_seed_other_result():
    x, lengths = ids(np.full(100, 3))
    a, b, c = (run(x, lengths, s, ratio=0.5) for s in (4, 4, 5))
    assert_outputs(a, b)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("x, lengths, error, match", BAD_INPUTS)
def test_bad_inputs_raise_and_leave_blobs_unchanged(x, lengths, error, match):
    net, feeds = net_with(dropout(ratio=0.5), X=x, Lengths=lengths)
    check_raises(net, feeds, error, match)


@pytest.mark.parametrize("ratio", [-0.1, 1.5])
def test_ratio_outside_zero_one_fails_at_creation(ratio):
    net, feeds = net_with(
        dropout(ratio=ratio), X=np.zeros(1, np.int64), Lengths=np.array([1], np.int32)
    )
    check_raises(net, feeds, ArgumentError, "Ratio should be a valid probability")


@pytest.mark.parametrize("outputs, found", WRONG_OUTPUTS)
def test_wrong_number_of_outputs(outputs, found):
    check_wrong_number_of_outputs("itemwise", OP, outputs, found)


def test_no_gradient():
    assert registry.gradient_entry(OP).kind == registry.NO_GRADIENT


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator(
        "SparseItemwiseDropoutWithReplacement", ["X", "L"], ["Y", "LO"], ratio=0.5
    )
    got = infer_op(op, [TensorShape((7,), np.int64), TensorShape((3,), np.int32)])
    assert got == [TensorShape((7,), np.int64), TensorShape((3,), np.int32)]
