"""Allreduce (Gloo-named, on MPI): sum over every input of every rank, in place."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError
from caffe2lite.schema import registry


def naive_allreduce(per_rank):
    """per_rank[r] = the inputs of rank r; every output = the sum of them all."""
    total = np.zeros_like(per_rank[0][0], dtype=np.float64)
    for inputs in per_rank:
        for x in inputs:
            for i in range(x.size):
                total.flat[i] += float(x.flat[i])
    return total.astype(per_rank[0][0].dtype)


def test_one_rank_sums_its_inputs_into_every_output(world_ws):
    ws = world_ws
    xs = [np.arange(6, dtype=np.float32).reshape(2, 3) * k for k in (1, 2, 3)]
    for i, x in enumerate(xs):
        ws.feed_blob(f"x{i}", x)
    ws.run_operator_once(CreateOperator("Allreduce", ["cw", "x0", "x1", "x2"], ["x0", "x1", "x2"]))
    want = naive_allreduce([xs])
    for i in range(3):
        np.testing.assert_array_equal(ws.fetch_blob(f"x{i}"), want)
    assert xs[0][1, 2] == 5  # the fed arrays were not written


def test_empty_and_0d(world_ws):
    ws = world_ws
    ws.feed_blob("e", np.zeros((0, 3), np.float32))
    ws.feed_blob("s", np.full((), 2.5, np.float32))
    ws.run_operator_once(CreateOperator("Allreduce", ["cw", "e"], ["e"]))
    ws.run_operator_once(CreateOperator("Allreduce", ["cw", "s"], ["s"]))
    assert ws.fetch_blob("e").shape == (0, 3)
    assert ws.fetch_blob("s") == 2.5


def test_must_be_in_place(world_ws):
    ws = world_ws
    ws.feed_blob("x", np.ones(2, np.float32))
    with pytest.raises(SchemaError, match="are not in-place but should be"):
        ws.run_operator_once(CreateOperator("Allreduce", ["cw", "x"], ["y"]))


def test_errors(world_ws, raises_keeping):
    op = CreateOperator("Allreduce", ["cw", "x"], ["x"])
    ws = world_ws
    ws.feed_blob("x", np.ones(2, np.int32))
    raises_keeping(ws, op, DTypeError,
                           "caller expects elements to be float while tensor contains int")
    testing.check_raises(op, {"cw": np.ones(1), "x": np.ones(2, np.float32)}, EnforceError,
                         "input 0 must be a common world")
    ws.feed_blob("x", np.ones(2, np.float32))
    ws.feed_blob("y", np.ones(3, np.float32))
    raises_keeping(ws, CreateOperator("Allreduce", ["cw", "x", "y"], ["x", "y"]),
                           EnforceError, "input 2 has 3 elements, input 1 has 2")
    ws.run_operator_once(CreateOperator("DestroyCommonWorld", ["cw"], ["cw"]))
    raises_keeping(ws, op, EnforceError, "the common world was destroyed")


def test_gradient_decision():
    assert registry.gradient_entry("Allreduce").kind == registry.SHOULD_NOT_DO


def test_three_ranks_sum_every_input_of_every_rank(ranks):
    res = ranks(3, '''
xs = [np.arange(4, dtype=np.float32) * (RANK + 1) + k for k in range(2)]
workspace.FeedBlob("a", xs[0]); workspace.FeedBlob("b", xs[1])
run("Allreduce", ["cw", "a", "b"], ["a", "b"], engine="GLOO")
report(a=workspace.FetchBlob("a"), b=workspace.FetchBlob("b"))
workspace.FeedBlob("c", np.zeros(RANK + 1, np.float32))
report(error=error_of("Allreduce", ["cw", "c"], ["c"]))
''')
    by_rank = {r["rank"]: r for r in res.results if "a" in r}
    assert res.returncode == 0, res.stderr
    per_rank = [[np.arange(4, dtype=np.float32) * (r + 1) + k for k in range(2)] for r in range(3)]
    want = naive_allreduce(per_rank)
    for r in range(3):
        np.testing.assert_array_equal(by_rank[r]["a"], want)
        np.testing.assert_array_equal(by_rank[r]["b"], want)
    errors = [r["error"] for r in res.results if "error" in r]
    assert len(errors) == 3
    for e in errors:
        assert "blob 'c' differs between ranks (rank 0: float32 of shape (1,), rank 1: " \
               "float32 of shape (2,), rank 2: float32 of shape (3,))" in e, e


def _blob_dict(ws):
    return ws.blobs if isinstance(getattr(ws, "blobs", None), dict) else ws._blobs


def test_writes_into_the_blob_memory_only_when_nothing_else_sees_it(world_ws):
    """In place, as Caffe2: a blob only the workspace holds is summed in its own memory
    (no new array); one that something else references (a view, a second blob, a
    caller's variable) is never written: the result goes to a new array."""
    ws = world_ws
    blobs = _blob_dict(ws)
    ws.feed_blob("x", np.arange(4, dtype=np.float32))
    ws.feed_blob("y", np.ones(4, np.float32))
    ident = (id(blobs["x"]), id(blobs["y"]))
    op = CreateOperator("Allreduce", ["cw", "x", "y"], ["x", "y"])
    ws.run_operator_once(op)
    assert (id(blobs["x"]), id(blobs["y"])) == ident  # reused, both
    np.testing.assert_array_equal(ws.fetch_blob("y"), [1, 2, 3, 4])
    held = blobs["x"]  # a reference from outside the workspace
    before = held.copy()
    ws.run_operator_once(op)
    np.testing.assert_array_equal(held, before)  # not written
    assert blobs["x"] is not held
    np.testing.assert_array_equal(ws.fetch_blob("x"), before * 2)  # x + y, and y was x
    view = blobs["y"][:]  # a view keeps y's memory alive: y is not written either
    y_before = view.copy()
    ws.run_operator_once(CreateOperator("Allreduce", ["cw", "y"], ["y"]))
    np.testing.assert_array_equal(view, y_before)
    # in a created net as well
    from caffe2lite import core

    net = core.Net("allreduce_reuse")
    net.Allreduce(["cw", "x"], ["x"])
    ws.create_net(net)
    ident = id(blobs["x"])
    ws.run_net(net.Proto().name)
    assert id(blobs["x"]) == ident
