"""MPISendTensor: X's bytes to rank dst with tag (raw_buffer only, as in Caffe2)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, SchemaError
from caffe2lite.schema import registry


def test_world_of_one_sends_to_itself(world_ws):
    world_ws.feed_blob("x", np.array([1.5, 2], np.float32))
    world_ws.run_operator_once(CreateOperator("MPISendTensor", ["cw", "x"], [], dst=0, tag=3,
                                              raw_buffer=True))
    assert world_ws.fetch_blob("cw").mailbox == [(3, np.array([1.5, 2], np.float32).tobytes())]


@pytest.mark.parametrize("args, message", [
    ({"dst": 0, "tag": 0}, "non-raw-buffer transfer not supported yet."),
    ({"tag": 0, "raw_buffer": True},
     "You should explicitly specify the to rank either via argument or via input blobs."),
    ({"dst": 0, "raw_buffer": True},
     "You should explicitly specify the tag either via argument or via input blobs."),
    ({"dst": 1, "tag": 0, "raw_buffer": True}, "dst 1 is not a rank of the common world"),
])
def test_errors(world_ws, raises_keeping, args, message):
    world_ws.feed_blob("x", np.ones(2, np.float32))
    raises_keeping(world_ws, CreateOperator("MPISendTensor", ["cw", "x"], [], **args),
                   EnforceError, message)


def test_three_inputs_are_refused(world_ws):
    world_ws.feed_blob("x", np.ones(2, np.float32))
    with pytest.raises(SchemaError, match="Input size 3 not in allowed input sizes."):
        world_ws.run_operator_once(CreateOperator("MPISendTensor", ["cw", "x", "x"], []))


def test_gradient_decision():
    assert registry.gradient_entry("MPISendTensor").kind == registry.SHOULD_NOT_DO


def test_ring_of_three_ranks_with_dst_and_tag_inputs(ranks):
    res = ranks(3, '''
run("MPICreateCommonWorld", [], ["mw"])
workspace.FeedBlob("x", np.arange(3, dtype=np.int64) + 10 * RANK)
workspace.FeedBlob("dst", np.array([(RANK + 1) % SIZE], np.int32))
workspace.FeedBlob("tag", np.array([RANK], np.int32))
workspace.FeedBlob("y", np.zeros(3, np.int64))
if RANK % 2 == 0:
    run("MPISendTensor", ["mw", "x", "dst", "tag"], [], raw_buffer=True)
    run("MPIReceiveTensor", ["mw", "y"], ["y", "s", "t"], raw_buffer=True)
else:
    run("MPIReceiveTensor", ["mw", "y"], ["y", "s", "t"], raw_buffer=True)
    run("MPISendTensor", ["mw", "x", "dst", "tag"], [], raw_buffer=True)
report(y=workspace.FetchBlob("y"), s=int(workspace.FetchBlob("s")), t=int(workspace.FetchBlob("t")))
''')
    assert res.returncode == 0, res.stderr
    for r in res.results:
        sender = (r["rank"] - 1) % 3
        assert r["y"] == [10 * sender, 10 * sender + 1, 10 * sender + 2]
        assert (r["s"], r["t"]) == (sender, sender)
