"""MPICreateCommonWorld: a world over every rank of the MPI job."""

from __future__ import annotations

import sys

import pytest

import caffe2lite
from caffe2lite.core import CreateOperator
from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def test_world_of_one_outside_mpiexec():
    ws = Workspace()
    ws.run_operator_once(CreateOperator("MPICreateCommonWorld", [], ["cw"]))
    w = ws.fetch_blob("cw")
    assert isinstance(w, CommonWorld) and (w.rank, w.size, w.comm) == (0, 1, None)


def test_without_mpi4py_under_a_launcher_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setenv("PMI_SIZE", "2")
    assert caffe2lite.workspace is not None  # importing caffe2lite never needed MPI
    with pytest.raises(EnforceError, match=r'pip install "caffe2lite\[mpi\]"'):
        Workspace().run_operator_once(CreateOperator("MPICreateCommonWorld", [], ["cw"]))


def test_gradient_decision():
    assert registry.gradient_entry("MPICreateCommonWorld").kind == registry.SHOULD_NOT_DO


def test_every_rank_of_the_job(ranks):
    res = ranks(3, '''
run("MPICreateCommonWorld", [], ["mw"])
w = workspace.FetchBlob("mw")
report(size=w.size, world_rank=w.rank)
''')
    assert res.returncode == 0, res.stderr
    assert sorted((r["world_rank"], r["size"]) for r in res.results) == [(0, 3), (1, 3), (2, 3)]
