"""Broadcast (Gloo-named, on MPI): the root's first input into every input of every rank."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError
from caffe2lite.schema import registry


def naive_broadcast(per_rank, root):
    """Every input of every rank becomes a copy of the root's first input."""
    src = per_rank[root][0]
    return [[np.array([src.flat[i] for i in range(src.size)], src.dtype).reshape(x.shape)
             for x in inputs] for inputs in per_rank]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32, np.int64])
def test_one_rank_copies_the_first_input_into_every_input(world_ws, dtype):
    ws = world_ws
    xs = [np.arange(4, dtype=dtype) + 10 * k for k in range(3)]
    for i, x in enumerate(xs):
        ws.feed_blob(f"x{i}", x)
    ws.run_operator_once(CreateOperator("Broadcast", ["cw", "x0", "x1", "x2"], ["x0", "x1", "x2"]))
    want = naive_broadcast([xs], 0)[0]
    for i in range(3):
        got = ws.fetch_blob(f"x{i}")
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want[i])
    assert xs[1][0] == 10  # the fed arrays were not written


def test_in_place_required(world_ws):
    world_ws.feed_blob("x", np.ones(2, np.float32))
    with pytest.raises(SchemaError, match="are not in-place but should be"):
        world_ws.run_operator_once(CreateOperator("Broadcast", ["cw", "x"], ["y"]))


def test_errors(world_ws, raises_keeping):
    ws = world_ws
    ws.feed_blob("x", np.ones(2, np.bool_))
    raises_keeping(ws, CreateOperator("Broadcast", ["cw", "x"], ["x"]), DTypeError,
                   "caller expects elements to be float while tensor contains bool")
    ws.feed_blob("x", np.ones(2, np.float32))
    raises_keeping(ws, CreateOperator("Broadcast", ["cw", "x"], ["x"], root=1), EnforceError,
                   "root 1 is not a rank of the common world")
    ws.feed_blob("y", np.ones(2, np.int32))
    raises_keeping(ws, CreateOperator("Broadcast", ["cw", "x", "y"], ["x", "y"]), EnforceError,
                   "input 2 is int32, input 1 is float32")


def test_gradient_decision():
    assert registry.gradient_entry("Broadcast").kind == registry.SHOULD_NOT_DO


def test_two_ranks_from_each_root(ranks):
    res = ranks(2, '''
for root in (0, 1):
    workspace.FeedBlob("a", np.arange(3, dtype=np.int64) + 100 * RANK)
    workspace.FeedBlob("b", np.zeros(3, np.int64))
    run("Broadcast", ["cw", "a", "b"], ["a", "b"], root=root, engine="GLOO")
    report(root=root, a=workspace.FetchBlob("a"), b=workspace.FetchBlob("b"))
workspace.FeedBlob("c", np.zeros((2, RANK + 1), np.float32))
report(error=error_of("Broadcast", ["cw", "c"], ["c"]))
''')
    assert res.returncode == 0, res.stderr
    for r in res.results:
        if "root" in r:
            want = naive_broadcast([[np.arange(3) + 100 * k] * 2 for k in range(2)], r["root"])
            assert r["a"] == r["b"] == want[r["rank"]][0].tolist()
    errors = [r["error"] for r in res.results if "error" in r]
    assert len(errors) == 2 and all(
        "blob 'c' differs between ranks (rank 0: float32 of shape (2, 1), rank 1: "
        "float32 of shape (2, 2))" in e for e in errors), errors
