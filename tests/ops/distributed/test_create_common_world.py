"""CreateCommonWorld: the MPI world, with size and rank checked against it."""

from __future__ import annotations

import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def test_world_of_one_outside_mpiexec():
    ws = Workspace()
    ws.run_operator_once(CreateOperator("CreateCommonWorld", [], ["cw"], name="cw", size=1,
                                        rank=0, timeout_ms=1234))
    w = ws.fetch_blob("cw")
    assert isinstance(w, CommonWorld) and (w.rank, w.size, w.timeout_ms) == (0, 1, 1234)


@pytest.mark.parametrize("args, message", [
    ({"name": "cw"}, r"rank_ >= 0 && rank_ < size_"),
    ({"name": "cw", "size": 2, "rank": 2}, r"rank_ >= 0 && rank_ < size_"),
    ({"size": 1, "rank": 0}, "CreateCommonWorld operator requires name"),
    ({"name": "cw", "size": 2, "rank": 1},
     r"size 2 and rank 1 do not match the MPI world \(size 1, this process is rank 0\)"),
])
def test_errors(args, message):
    with pytest.raises(EnforceError, match=message):
        Workspace().run_operator_once(CreateOperator("CreateCommonWorld", [], ["cw"], **args))


def test_gradient_decision():
    assert registry.gradient_entry("CreateCommonWorld").kind == registry.SHOULD_NOT_DO


def test_under_mpiexec_size_and_rank_are_checked(ranks):
    res = ranks(2, '''
w = workspace.FetchBlob("cw")
report(size=w.size, world_rank=w.rank, timeout=w.timeout_ms,
       wrong=error_of("CreateCommonWorld", [], ["cw2"], name="cw2", size=3, rank=RANK))
''')
    assert res.returncode == 0, res.stderr
    assert sorted((r["world_rank"], r["size"], r["timeout"]) for r in res.results) == [
        (0, 2, 20000), (1, 2, 20000)]
    for r in res.results:
        assert f"size 3 and rank {r['rank']} do not match the MPI world (size 2" in r["wrong"]
