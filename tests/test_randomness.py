"""Seeding semantics of random operators, through the workspace and the core API.

Each random op owns a generator seeded from its device_option.random_seed (or the
net's device_option when the op has none). RunOperatorOnce and RunNetOnce build fresh
generators every call; a created net keeps its generators across RunNet calls.
SparseDropoutWithReplacement (one decision per segment) is the random op used here.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from c2l_test_support.dropout import naive_decisions

from caffe2lite import core, workspace
from caffe2lite.builder.net import NetAssertionError
from caffe2lite.proto import caffe2_pb2

SEGMENTS = 200
LENGTHS = np.full(SEGMENTS, 2, dtype=np.int32)
X = np.arange(2 * SEGMENTS, dtype=np.int64)


def dropout_op(out: str = "Y", **kwargs) -> caffe2_pb2.OperatorDef:
    return core.CreateOperator(
        "SparseDropoutWithReplacement",
        ["X", "Lengths"],
        [out, out + "_lengths"],
        ratio=0.5,
        replacement_value=-1,
        **kwargs,
    )


def kept(out_lengths: np.ndarray) -> list[bool]:
    return (out_lengths == 2).tolist()


def expected_keeps(seed: int, runs: int = 1) -> list[list[bool]]:
    """What one generator seeded with ``seed`` decides over consecutive runs."""
    rng = np.random.default_rng(seed)
    return [naive_decisions(rng, SEGMENTS, 0.5) for _ in range(runs)]


@pytest.fixture
def ws() -> Iterator[None]:
    """A fresh current workspace with the inputs fed; the previous one is restored."""
    before = workspace.CurrentWorkspace()
    workspace.SwitchWorkspace("test_randomness", True)
    workspace.ResetWorkspace()
    workspace.FeedBlob("X", X)
    workspace.FeedBlob("Lengths", LENGTHS)
    try:
        yield
    finally:
        workspace.ResetWorkspace()
        workspace.SwitchWorkspace(before)


def test_create_operator_puts_random_seed_in_the_device_option():
    op = dropout_op(random_seed=123)
    assert op.HasField("device_option") and op.device_option.random_seed == 123
    assert "random_seed" not in [a.name for a in op.arg]


def test_run_operator_once_with_a_seed_repeats_itself(ws):
    op = dropout_op(random_seed=11)
    results = []
    for _ in range(3):
        workspace.RunOperatorOnce(op)
        results.append(kept(workspace.FetchBlob("Y_lengths")))
    assert results == expected_keeps(11) * 3


def test_run_net_once_builds_fresh_generators(ws):
    net = core.Net("once")
    net.Proto().op.append(dropout_op(random_seed=5))
    results = []
    for _ in range(2):
        workspace.RunNetOnce(net)
        results.append(kept(workspace.FetchBlob("Y_lengths")))
    assert results == expected_keeps(5) * 2


def run_created_net(seed: int, runs: int) -> list[list[bool]]:
    net = core.Net(f"continuing_{seed}")
    net.Proto().op.append(dropout_op(random_seed=seed))
    workspace.CreateNet(net, overwrite=True)
    results = []
    for _ in range(runs):
        workspace.RunNet(net.Name())
        results.append(kept(workspace.FetchBlob("Y_lengths")))
    return results


def test_a_created_net_continues_its_generator_across_runs(ws):
    first = run_created_net(21, 3)
    assert first[0] != first[1] != first[2]
    assert first == expected_keeps(21, 3)  # one stream, continued
    workspace.ResetWorkspace()
    workspace.FeedBlob("X", X)
    workspace.FeedBlob("Lengths", LENGTHS)
    assert run_created_net(21, 3) == first  # the whole sequence is reproducible
    assert run_created_net(22, 3) != first


def test_run_net_with_num_iter_continues_too(ws):
    net = core.Net("iterating")
    net.Proto().op.append(dropout_op(random_seed=8))
    workspace.CreateNet(net)
    workspace.RunNet(net.Name(), num_iter=3)
    assert kept(workspace.FetchBlob("Y_lengths")) == expected_keeps(8, 3)[2]


def test_the_net_seed_reaches_ops_without_a_device_option(ws):
    net = caffe2_pb2.NetDef(name="net_seeded")
    net.device_option.random_seed = 31
    net.op.append(dropout_op("A"))  # no device option: takes the net's
    net.op.append(dropout_op("B", random_seed=32))  # its own seed wins
    own = dropout_op("C")
    own.device_option.CopyFrom(core.DeviceOption(caffe2_pb2.CPU))  # its own, no seed
    net.op.append(own)
    runs = []
    for _ in range(2):
        workspace.RunNetOnce(net)
        runs.append([kept(workspace.FetchBlob(b + "_lengths")) for b in "ABC"])
    assert runs[0][0] == runs[1][0] == expected_keeps(31)[0]
    assert runs[0][1] == runs[1][1] == expected_keeps(32)[0]
    # The unseeded op draws from the operating system: a repeat has odds 2**-200.
    assert runs[0][2] != runs[1][2] and runs[0][2] != runs[0][0]


def test_unseeded_runs_differ(ws):
    op = dropout_op()
    results = []
    for _ in range(2):
        workspace.RunOperatorOnce(op)
        results.append(kept(workspace.FetchBlob("Y_lengths")))
    assert results[0] != results[1]


def test_set_rand_seed_gives_op_i_seed_plus_i(ws):
    net = core.Net("sequence")
    for name in ("A", "B", "C"):
        net.Proto().op.append(dropout_op(name))
    net.set_rand_seed(seed=40)
    assert [op.device_option.random_seed for op in net.Proto().op] == [40, 41, 42]
    workspace.RunNetOnce(net)
    got = [kept(workspace.FetchBlob(b + "_lengths")) for b in "ABC"]
    assert got == [expected_keeps(s)[0] for s in (40, 41, 42)]


def seeds_after_set_rand_seed(**kwargs) -> list[int]:
    net = core.Net("modes")
    for name in ("A", "B"):
        net.Proto().op.append(dropout_op(name))
    net.set_rand_seed(seed=9, **kwargs)
    return [op.device_option.random_seed for op in net.Proto().op]


def test_set_rand_seed_other_modes():
    assert seeds_after_set_rand_seed(sequence_seed=False) == [9, 9]
    hashed = seeds_after_set_rand_seed(sequence_seed=False, seed_on_op_def=True)
    assert hashed == seeds_after_set_rand_seed(sequence_seed=False, seed_on_op_def=True)
    assert hashed[0] != hashed[1]  # a hash of each op's definition and the seed
    assert all(0 <= s < 2**32 for s in hashed)
    with pytest.raises(
        NetAssertionError, match="sequence_seed and seed_on_op_def cannot be both set"
    ):
        seeds_after_set_rand_seed(sequence_seed=True, seed_on_op_def=True)
