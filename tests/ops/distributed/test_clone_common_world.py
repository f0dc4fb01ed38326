"""CloneCommonWorld: the same ranks on a communicator of their own."""

from __future__ import annotations

import numpy as np

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry


def test_clone_of_a_world_of_one(world_ws):
    world_ws.run_operator_once(CreateOperator("CloneCommonWorld", ["cw"], ["cw2"]))
    a, b = world_ws.fetch_blob("cw"), world_ws.fetch_blob("cw2")
    assert isinstance(b, CommonWorld) and b is not a and (b.rank, b.size) == (0, 1)


def test_needs_a_world():
    testing.check_raises(CreateOperator("CloneCommonWorld", ["cw"], ["cw2"]),
                         {"cw": np.zeros(1)}, EnforceError, "input 0 must be a common world")


def test_gradient_decision():
    assert registry.gradient_entry("CloneCommonWorld").kind == registry.SHOULD_NOT_DO


def test_clone_works_beside_the_original(ranks):
    res = ranks(2, '''
run("CloneCommonWorld", ["cw"], ["cw2"])
workspace.FeedBlob("x", np.full(2, RANK + 1, np.float32))
run("Allreduce", ["cw2", "x"], ["x"])
run("Allreduce", ["cw", "x"], ["x"])
report(x=workspace.FetchBlob("x"), other=workspace.FetchBlob("cw2").comm is not workspace.FetchBlob("cw").comm)
''')
    assert res.returncode == 0, res.stderr
    assert [r["x"] for r in res.results] == [[6.0, 6.0]] * 2
    assert all(r["other"] for r in res.results)
