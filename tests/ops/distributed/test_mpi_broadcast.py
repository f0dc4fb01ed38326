"""MPIBroadcast: the root's X (any type) on every rank, in place."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, SchemaError
from caffe2lite.schema import registry


def test_one_rank(world_ws):
    x = np.array([[1, 2]], np.uint8)
    world_ws.feed_blob("x", x)
    world_ws.run_operator_once(CreateOperator("MPIBroadcast", ["cw", "x"], ["x"]))
    got = world_ws.fetch_blob("x")
    assert got.dtype == np.uint8 and got.tolist() == [[1, 2]]


def test_errors(world_ws, raises_keeping):
    world_ws.feed_blob("e", np.zeros(0, np.float32))
    raises_keeping(world_ws, CreateOperator("MPIBroadcast", ["cw", "e"], ["e"]), EnforceError,
                   "Broadcast op uses in-place operation so the output should be already "
                   "allocated.")
    world_ws.feed_blob("x", np.zeros(2, np.float32))
    with pytest.raises(SchemaError, match="are not in-place but should be"):
        world_ws.run_operator_once(CreateOperator("MPIBroadcast", ["cw", "x"], ["y"]))


def test_gradient_decision():
    assert registry.gradient_entry("MPIBroadcast").kind == registry.SHOULD_NOT_DO


def test_two_ranks(ranks):
    res = ranks(2, '''
run("MPICreateCommonWorld", [], ["mw"])
workspace.FeedBlob("x", np.array([RANK * 7 + 1, 2], np.int64))
run("MPIBroadcast", ["mw", "x"], ["x"], root=1)
report(x=workspace.FetchBlob("x"))
''')
    assert res.returncode == 0, res.stderr
    assert [r["x"] for r in res.results] == [[8, 2]] * 2
