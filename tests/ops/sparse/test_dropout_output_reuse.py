"""The compiled dropout kernels write Y into the memory of the previous Y (as Caffe2
keeps an output tensor's memory from run to run), but only where nothing else can
see that memory: these tests check both that it happens and every case where it
must not."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.dropout import dropout_op, ids
from caffe2lite.ops import _speedups

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.workspace import Workspace

pytestmark = pytest.mark.skipif(_speedups.native is None, reason=_speedups.status)

OPS = ["SparseDropoutWithReplacement", "SparseItemwiseDropoutWithReplacement"]


def memory(ws: Workspace, name: str) -> int:
    """The address of the memory behind the stored blob ``name`` (its owner's)."""
    value = ws._blobs[name]
    owner = value if value.base is None else value.base
    return owner.__array_interface__["data"][0]


def workspace(op_type: str, *extra_ops, seed: int = 5, ratio: float = 0.3,
              lengths=None) -> tuple[Workspace, np.ndarray, np.ndarray]:
    """A workspace with X, Lengths and the net "n": the op (Y, OutputLengths), then
    ``extra_ops``."""
    x, lengths = ids(np.full(3000, 20) if lengths is None else lengths, 1)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("Lengths", lengths)
    net = caffe2_pb2.NetDef(name="n")
    net.op.append(dropout_op(op_type, ratio=ratio, replacement_value=-1,
                             random_seed=seed))
    net.op.extend(extra_ops)
    ws.create_net(net)
    return ws, x, lengths


def expected_runs(op_type: str, x, lengths, count: int, ratio: float = 0.3):
    """Y of ``count`` runs of one op instance, each in a fresh workspace of its own
    (no memory to reuse), from one generator."""
    from caffe2lite.runtime.net import compile_op

    step, problems = compile_op(dropout_op(op_type, ratio=ratio, replacement_value=-1,
                                           random_seed=5))
    assert not problems
    return [step.kernel(x, lengths, **step.kwargs)[0].copy() for _ in range(count)]


@pytest.mark.parametrize("op_type", OPS)
def test_run_net_writes_y_into_the_previous_y(op_type):
    ws, x, lengths = workspace(op_type)
    want = expected_runs(op_type, x, lengths, 4)
    ws.run_net("n")
    first = memory(ws, "Y")
    np.testing.assert_array_equal(ws.fetch_blob("Y"), want[0])
    for run in range(1, 4):
        ws.run_net("n")
        assert memory(ws, "Y") == first
        np.testing.assert_array_equal(ws.fetch_blob("Y"), want[run])
        assert ws._blobs["Y"].__array_interface__["data"][0] % 64 == 0


@pytest.mark.parametrize("op_type", OPS)
def test_run_operator_once_reuses_y_too(op_type):
    ws, x, lengths = workspace(op_type)
    op = dropout_op(op_type, ratio=0.3, replacement_value=-1, random_seed=5)
    ws.run_operator_once(op)
    first = memory(ws, "Y")
    ws.run_operator_once(op)  # a fresh op instance: the same seed, the same Y
    assert memory(ws, "Y") == first
    np.testing.assert_array_equal(ws.fetch_blob("Y"), expected_runs(op_type, x,
                                                                     lengths, 1)[0])


@pytest.mark.parametrize("op_type", OPS)
def test_a_y_that_another_blob_shares_is_not_written(op_type):
    """Alias makes Z the same array as Y: the next run must leave Z as it was."""
    ws, x, lengths = workspace(op_type)
    ws.run_net("n")
    ws.run_operator_once(CreateOperator("Alias", ["Y"], ["Z"]))
    z = ws.fetch_blob("Z")
    ws.run_net("n")
    np.testing.assert_array_equal(ws.fetch_blob("Z"), z)
    assert memory(ws, "Y") != memory(ws, "Z")
    np.testing.assert_array_equal(ws.fetch_blob("Y"),
                                  expected_runs(op_type, x, lengths, 2)[1])


@pytest.mark.parametrize("op_type", OPS)
def test_a_y_in_another_workspace_or_under_another_name_is_not_written(op_type):
    ws, _, _ = workspace(op_type)
    ws.run_net("n")
    other = Workspace()
    other._blobs["Y"] = ws._blobs["Y"]  # one array under two workspaces
    kept = other.fetch_blob("Y")
    ws.run_net("n")
    np.testing.assert_array_equal(other.fetch_blob("Y"), kept)
    del other
    ws._blobs["W"] = ws._blobs["Y"][1:]  # another view of the same memory
    kept = ws.fetch_blob("W")
    ws.run_net("n")
    np.testing.assert_array_equal(ws.fetch_blob("W"), kept)


@pytest.mark.parametrize("op_type", OPS)
def test_a_failing_run_leaves_the_previous_y_unchanged(op_type):
    ws, _, lengths = workspace(op_type)
    ws.run_net("n")
    y = ws.fetch_blob("Y")
    ws.feed_blob("Lengths", lengths[:-1])  # no longer adds up to len(X)
    with pytest.raises(EnforceError, match="Number of elements should match"):
        ws.run_net("n")
    np.testing.assert_array_equal(ws.fetch_blob("Y"), y)


@pytest.mark.parametrize("op_type", OPS)
@pytest.mark.parametrize(
    "previous",
    [
        np.zeros(60_000, np.int32),  # another dtype
        np.zeros(60_000, np.uint64),  # the same size, but unsigned
        np.zeros(30, np.int64),  # too small
        np.zeros(10**6, np.int64),  # far too large to keep
        np.zeros((60_010, 1), np.int64),  # not a vector
    ],
    ids=["int32", "uint64", "small", "large", "2-D"],
)
def test_a_previous_y_that_does_not_fit_is_replaced(op_type, previous):
    ws, x, lengths = workspace(op_type)
    ws.feed_blob("Y", previous)
    ws.run_net("n")
    y = ws._blobs["Y"]
    assert y.dtype == np.int64 and y.ndim == 1
    np.testing.assert_array_equal(y, expected_runs(op_type, x, lengths, 1)[0])
    assert y.base is not None and y.base.shape[0] < 80_000


@pytest.mark.parametrize("op_type", OPS)
def test_a_fed_y_may_be_reused_but_the_callers_array_is_untouched(op_type):
    ws, x, lengths = workspace(op_type)
    mine = np.full(60_007, 3, dtype=np.int64)
    ws.feed_blob("Y", mine)  # the workspace holds a copy
    ws.run_net("n")
    np.testing.assert_array_equal(mine, 3)
    np.testing.assert_array_equal(ws.fetch_blob("Y"),
                                  expected_runs(op_type, x, lengths, 1)[0])


def test_the_kernel_on_its_own_allocates():
    from caffe2lite.runtime.net import compile_op

    step, _ = compile_op(dropout_op(OPS[1], ratio=0.3, replacement_value=-1))
    x, lengths = ids([5, 7])
    assert step.kwargs["outputs"].names == ("Y", "OutputLengths")
    assert step.kwargs["outputs"].blobs is None
    first = step.kernel(x, lengths, **step.kwargs)[0]
    second = step.kernel(x, lengths, **step.kwargs)[0]
    assert first.base is not second.base
