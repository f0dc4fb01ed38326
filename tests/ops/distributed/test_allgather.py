"""Allgather (Gloo-named, on MPI): every input of every rank, flattened, rank-major."""

from __future__ import annotations

import numpy as np

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry


def naive_allgather(per_rank):
    out = []
    for inputs in per_rank:
        for x in inputs:
            out.extend(x.reshape(-1).tolist())
    return np.array(out, per_rank[0][0].dtype)


def test_one_rank_concatenates_its_inputs(world_ws):
    xs = [np.arange(6, dtype=np.int32).reshape(2, 3) + 10 * k for k in range(2)]
    world_ws.feed_blob("a", xs[0])
    world_ws.feed_blob("b", xs[1])
    world_ws.run_operator_once(CreateOperator("Allgather", ["cw", "a", "b"], ["y"]))
    np.testing.assert_array_equal(world_ws.fetch_blob("y"), naive_allgather([xs]))


def test_empty(world_ws):
    world_ws.feed_blob("a", np.zeros((0, 2), np.float32))
    world_ws.run_operator_once(CreateOperator("Allgather", ["cw", "a"], ["y"]))
    assert world_ws.fetch_blob("y").shape == (0,)


def test_inputs_of_one_size(world_ws, raises_keeping):
    world_ws.feed_blob("a", np.zeros(2, np.float32))
    world_ws.feed_blob("b", np.zeros(3, np.float32))
    raises_keeping(world_ws, CreateOperator("Allgather", ["cw", "a", "b"], ["y"]), EnforceError,
                   "input 2 has 3 elements, input 1 has 2")


def test_gradient_decision():
    assert registry.gradient_entry("Allgather").kind == registry.SHOULD_NOT_DO


def test_three_ranks(ranks):
    res = ranks(3, '''
workspace.FeedBlob("a", np.full((2,), RANK, np.float32))
workspace.FeedBlob("b", np.full((2,), 10 + RANK, np.float32))
run("Allgather", ["cw", "a", "b"], ["y"])
report(y=workspace.FetchBlob("y"))
''')
    assert res.returncode == 0, res.stderr
    want = naive_allgather([[np.full(2, r, np.float32), np.full(2, 10 + r, np.float32)]
                            for r in range(3)])
    assert len(res.results) == 3
    for r in res.results:
        np.testing.assert_array_equal(r["y"], want)
