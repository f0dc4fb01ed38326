"""MPIReceiveTensor: a message's bytes into Y (in place), with its source and tag."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, SchemaError
from caffe2lite.schema import registry


def send(ws, x, tag):
    ws.feed_blob("x", x)
    ws.run_operator_once(CreateOperator("MPISendTensor", ["cw", "x"], [], dst=0, tag=tag,
                                        raw_buffer=True))


def test_world_of_one_receives_by_tag(world_ws):
    send(world_ws, np.array([1, 2], np.int32), 5)
    send(world_ws, np.array([3, 4], np.int32), 6)
    world_ws.feed_blob("y", np.zeros(2, np.int32))
    world_ws.run_operator_once(CreateOperator("MPIReceiveTensor", ["cw", "y"], ["y", "s", "t"],
                                              tag=6, raw_buffer=True))
    assert world_ws.fetch_blob("y").tolist() == [3, 4]
    assert (int(world_ws.fetch_blob("s")), int(world_ws.fetch_blob("t"))) == (0, 6)
    world_ws.run_operator_once(CreateOperator("MPIReceiveTensor", ["cw", "y"], ["y", "s", "t"],
                                              raw_buffer=True))
    assert world_ws.fetch_blob("y").tolist() == [1, 2] and int(world_ws.fetch_blob("t")) == 5


def test_errors(world_ws, raises_keeping):
    world_ws.feed_blob("y", np.zeros(2, np.float32))
    op = CreateOperator("MPIReceiveTensor", ["cw", "y"], ["y", "s", "t"], raw_buffer=True)
    raises_keeping(world_ws, op, EnforceError, "no message from rank -2 with tag -1")
    send(world_ws, np.zeros(3, np.float32), 1)
    raises_keeping(world_ws, op, EnforceError, "the message has 12 bytes, Y has 8")
    raises_keeping(world_ws, CreateOperator("MPIReceiveTensor", ["cw", "y"], ["y", "s", "t"]),
                   EnforceError, "non-raw-buffer transfer not supported yet.")
    with pytest.raises(SchemaError, match="are not in-place but should be"):
        world_ws.run_operator_once(CreateOperator("MPIReceiveTensor", ["cw", "y"], ["z", "s", "t"],
                                                  raw_buffer=True))


def test_gradient_decision():
    assert registry.gradient_entry("MPIReceiveTensor").kind == registry.SHOULD_NOT_DO


def test_wrong_size_across_ranks_is_an_error_not_garbage(ranks):
    res = ranks(2, '''
run("MPICreateCommonWorld", [], ["mw"])
if RANK == 0:
    workspace.FeedBlob("x", np.zeros(4, np.float32))
    run("MPISendTensor", ["mw", "x"], [], dst=1, tag=2, raw_buffer=True)
else:
    workspace.FeedBlob("y", np.zeros(8, np.float32))
    report(error=error_of("MPIReceiveTensor", ["mw", "y"], ["y", "s", "t"], src=0, raw_buffer=True))
''')
    assert res.returncode == 0, res.stderr
    assert "the message has 16 bytes, Y has 32" in res.results[0]["error"]
