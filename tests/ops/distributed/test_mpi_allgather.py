"""MPIAllgather: every rank's X concatenated along axis 0 (float32)."""

from __future__ import annotations

import numpy as np

from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema import registry


def test_one_rank(world_ws):
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    world_ws.feed_blob("x", x)
    world_ws.run_operator_once(CreateOperator("MPIAllgather", ["cw", "x"], ["y"]))
    np.testing.assert_array_equal(world_ws.fetch_blob("y"), x)


def test_errors(world_ws, raises_keeping):
    world_ws.feed_blob("s", np.full((), 1, np.float32))
    raises_keeping(world_ws, CreateOperator("MPIAllgather", ["cw", "s"], ["y"]), ShapeError,
                   "X must have at least one dimension")
    world_ws.feed_blob("i", np.ones(2, np.int32))
    raises_keeping(world_ws, CreateOperator("MPIAllgather", ["cw", "i"], ["y"]), DTypeError,
                   "caller expects elements to be float while tensor contains int")


def test_gradient_decision():
    assert registry.gradient_entry("MPIAllgather").kind == registry.SHOULD_NOT_DO


def test_three_ranks(ranks):
    res = ranks(3, '''
run("MPICreateCommonWorld", [], ["mw"])
workspace.FeedBlob("x", np.full((1, 2), RANK, np.float32))
run("MPIAllgather", ["mw", "x"], ["y"])
report(y=workspace.FetchBlob("y"))
''')
    assert res.returncode == 0, res.stderr
    want = [[float(r)] * 2 for r in range(3)]
    assert [r["y"] for r in res.results] == [want] * 3
