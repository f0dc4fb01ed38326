"""FileStoreHandlerCreate: a store in a folder, shared by processes."""

from __future__ import annotations

import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed.mpi_store import FileStoreHandler
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def test_creates_a_handler_without_touching_the_disk(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"],
                                        path=str(tmp_path / "s"), prefix="run1"))
    h = ws.fetch_blob("h")
    assert isinstance(h, FileStoreHandler) and h.folder == str(tmp_path / "s" / "run1")
    assert not (tmp_path / "s").exists()


def test_path_is_required():
    with pytest.raises(EnforceError, match="path is a required argument"):
        Workspace().run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"]))


def test_gradient_decision():
    assert registry.gradient_entry("FileStoreHandlerCreate").kind == registry.SHOULD_NOT_DO


def test_three_processes_rendezvous_through_the_folder(ranks, tmp_path):
    res = ranks(3, f'''
run("FileStoreHandlerCreate", [], ["h"], path={str(tmp_path)!r}, prefix="job")
run("StoreAdd", ["h"], ["joined"], blob_name="joined")
workspace.FeedBlob("mine", np.full(2, RANK, np.int32))
run("StoreSet", ["h", "mine"], [], blob_name="part_%d" % RANK)
run("StoreWait", ["h"], [], blob_names=["part_%d" % r for r in range(SIZE)])
got = []
for r in range(SIZE):
    run("StoreGet", ["h"], ["part_%d" % r])
    got.append(workspace.FetchBlob("part_%d" % r).tolist())
report(joined=int(workspace.FetchBlob("joined")), got=got)
''')
    assert res.returncode == 0, res.stderr
    assert sorted(r["joined"] for r in res.results) == [1, 2, 3]
    for r in res.results:
        assert r["got"] == [[0, 0], [1, 1], [2, 2]]
