"""DBExists: minidb files, root-relative names, other types, unknown types."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.testing import check_raises


def exists(**args):
    workspace.RunOperatorOnce(CreateOperator("DBExists", [], ["e"], **args))
    value = workspace.FetchBlob("e")
    assert value.dtype == np.bool_ and value.shape == ()
    return bool(value)


def test_minidb(ws_root):
    assert not exists(db_name="m.minidb", db_type="minidb")
    workspace.FeedBlob("x", np.ones(1, np.float32))
    workspace.RunOperatorOnce(CreateOperator("Save", ["x"], [], db="m.minidb",
                                             db_type="minidb"))
    assert exists(db_name="m.minidb", db_type="minidb")
    assert exists(db_name=str(ws_root / "m.minidb"), db_type="minidb", absolute_path=1)
    assert not exists(db_name=str(ws_root), db_type="minidb", absolute_path=1)


def test_lmdb(ws_root):
    pytest.importorskip("lmdb")
    assert not exists(db_name="l", db_type="lmdb")
    workspace.FeedBlob("x", np.ones(1, np.float32))
    workspace.RunOperatorOnce(CreateOperator("Save", ["x"], [], db="l", db_type="lmdb"))
    assert exists(db_name="l", db_type="lmdb")


def test_unknown_type():
    check_raises(CreateOperator("DBExists", [], ["e"], db_name="x", db_type="leveldbb"),
                 [], EnforceError, "Cannot find db implementation of type leveldbb")
