"""ReduceScatter (Gloo-named, on MPI): each rank's segment of the sum of all inputs."""

from __future__ import annotations

import numpy as np

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema import registry


def naive(per_rank, counts, rank):
    """The sum over every input of every rank, kept only on rank's segment."""
    n = per_rank[0][0].size
    total = [0.0] * n
    for inputs in per_rank:
        for x in inputs:
            for i, v in enumerate(x.reshape(-1).tolist()):
                total[i] += v
    start = sum(counts[:rank])
    return [total[i] if start <= i < start + counts[rank] else 0.0 for i in range(n)]


def test_one_rank(world_ws):
    xs = [np.arange(4, dtype=np.float32).reshape(2, 2) + k for k in range(2)]
    world_ws.feed_blob("a", xs[0])
    world_ws.feed_blob("b", xs[1])
    world_ws.feed_blob("c", np.array([4], np.int32))
    world_ws.run_operator_once(CreateOperator("ReduceScatter", ["cw", "a", "b", "c"],
                                              ["a", "b", "c"]))
    want = naive([xs], [4], 0)
    assert world_ws.fetch_blob("a").reshape(-1).tolist() == want
    assert world_ws.fetch_blob("b").shape == (2, 2)
    assert world_ws.fetch_blob("c").tolist() == [4]


def test_errors(world_ws, raises_keeping):
    world_ws.feed_blob("a", np.ones(3, np.float32))
    op = CreateOperator("ReduceScatter", ["cw", "a", "c"], ["a", "c"])
    world_ws.feed_blob("c", np.array([2], np.int32))
    raises_keeping(world_ws, op, EnforceError, "must be non-negative and add up to X's size")
    world_ws.feed_blob("c", np.array([1, 2], np.int32))
    raises_keeping(world_ws, op, EnforceError, "recv_counts needs one count per rank")
    world_ws.feed_blob("c", np.array([3], np.int64))
    raises_keeping(world_ws, op, DTypeError, "caller expects elements to be int while tensor "
                   "contains long")


def test_gradient_decision():
    assert registry.gradient_entry("ReduceScatter").kind == registry.SHOULD_NOT_DO


def test_three_ranks_uneven_counts(ranks):
    res = ranks(3, '''
workspace.FeedBlob("a", np.arange(6, dtype=np.float32) * (RANK + 1))
workspace.FeedBlob("b", np.ones(6, np.float32))
workspace.FeedBlob("c", np.array([1, 3, 2], np.int32))
run("ReduceScatter", ["cw", "a", "b", "c"], ["a", "b", "c"])
report(a=workspace.FetchBlob("a"), b=workspace.FetchBlob("b"))
''')
    assert res.returncode == 0, res.stderr
    per_rank = [[np.arange(6, dtype=np.float32) * (r + 1), np.ones(6, np.float32)]
                for r in range(3)]
    assert len(res.results) == 3
    for r in res.results:
        want = naive(per_rank, [1, 3, 2], r["rank"])
        assert r["a"] == want and r["b"] == want
