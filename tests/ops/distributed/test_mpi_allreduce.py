"""MPIAllreduce: the sum of X over every rank (float32), X may be Y."""

from __future__ import annotations

import numpy as np

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema import registry


def naive_sum(per_rank):
    out = np.zeros(per_rank[0].shape, np.float32)
    for x in per_rank:
        for idx in np.ndindex(*x.shape):
            out[idx] += x[idx]
    return out


def test_one_rank_in_place_and_not(world_ws):
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    world_ws.feed_blob("x", x)
    world_ws.run_operator_once(CreateOperator("MPIAllreduce", ["cw", "x"], ["y"]))
    world_ws.run_operator_once(CreateOperator("MPIAllreduce", ["cw", "x"], ["x"]))
    np.testing.assert_array_equal(world_ws.fetch_blob("y"), x)
    np.testing.assert_array_equal(world_ws.fetch_blob("x"), x)


def test_errors(world_ws, raises_keeping):
    world_ws.feed_blob("x", np.ones(2, np.float64))
    raises_keeping(world_ws, CreateOperator("MPIAllreduce", ["cw", "x"], ["y"]), DTypeError,
                   "caller expects elements to be float while tensor contains double")
    testing.check_raises(CreateOperator("MPIAllreduce", ["cw", "x"], ["y"]),
                         {"cw": np.zeros(1), "x": np.ones(1, np.float32)}, EnforceError,
                         "input 0 must be a common world")


def test_gradient_decision():
    assert registry.gradient_entry("MPIAllreduce").kind == registry.SHOULD_NOT_DO


def test_two_ranks(ranks):
    res = ranks(2, '''
run("MPICreateCommonWorld", [], ["mw"])
workspace.FeedBlob("x", np.arange(4, dtype=np.float32).reshape(2, 2) * (RANK + 1))
run("MPIAllreduce", ["mw", "x"], ["x"])
report(x=workspace.FetchBlob("x"))
''')
    assert res.returncode == 0, res.stderr
    want = naive_sum([np.arange(4, dtype=np.float32).reshape(2, 2) * (r + 1) for r in range(2)])
    assert [r["x"] for r in res.results] == [want.tolist()] * 2


def test_in_place_writes_into_the_blob_only_when_nothing_else_sees_it():
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    ws.run_operator_once(CreateOperator("MPICreateCommonWorld", [], ["cw"]))
    ws.feed_blob("x", np.arange(3, dtype=np.float32))
    blobs = ws._blobs
    ident = id(blobs["x"])
    ws.run_operator_once(CreateOperator("MPIAllreduce", ["cw", "x"], ["x"]))
    assert id(blobs["x"]) == ident  # in place, in its own memory
    held = blobs["x"]
    ws.run_operator_once(CreateOperator("MPIAllreduce", ["cw", "x"], ["x"]))
    assert blobs["x"] is not held  # a reference from outside: a new array
    ws.run_operator_once(CreateOperator("MPIAllreduce", ["cw", "x"], ["y"]))
    assert blobs["y"] is not blobs["x"]
    np.testing.assert_array_equal(blobs["y"], [0, 1, 2])
