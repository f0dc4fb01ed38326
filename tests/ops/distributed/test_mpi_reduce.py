"""MPIReduce: the sum of X over every rank on the root (zeros elsewhere)."""

from __future__ import annotations

import numpy as np

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema import registry


def test_one_rank(world_ws):
    x = np.array([1.5, -2], np.float32)
    world_ws.feed_blob("x", x)
    world_ws.run_operator_once(CreateOperator("MPIReduce", ["cw", "x"], ["y"]))
    np.testing.assert_array_equal(world_ws.fetch_blob("y"), x)


def test_errors(world_ws, raises_keeping):
    world_ws.feed_blob("x", np.ones(2, np.float32))
    raises_keeping(world_ws, CreateOperator("MPIReduce", ["cw", "x"], ["y"], root=3),
                   EnforceError, "root 3 is not a rank of the common world")
    world_ws.feed_blob("i", np.ones(2, np.int64))
    raises_keeping(world_ws, CreateOperator("MPIReduce", ["cw", "i"], ["y"]), DTypeError,
                   "caller expects elements to be float while tensor contains long")


def test_gradient_decision():
    assert registry.gradient_entry("MPIReduce").kind == registry.SHOULD_NOT_DO


def test_three_ranks_into_root_one(ranks):
    res = ranks(3, '''
run("MPICreateCommonWorld", [], ["mw"])
workspace.FeedBlob("x", np.full(3, RANK + 1, np.float32))
run("MPIReduce", ["mw", "x"], ["y"], root=1)
report(y=workspace.FetchBlob("y"))
''')
    assert res.returncode == 0, res.stderr
    got = {r["rank"]: r["y"] for r in res.results}
    assert got == {0: [0.0] * 3, 1: [6.0] * 3, 2: [0.0] * 3}
