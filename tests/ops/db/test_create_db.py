"""CreateDB: a DBReader that Load reads from, as Caffe2's predictor loading did."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.io.db import DBReader
from caffe2lite.testing import check_raises


def test_load_through_a_reader(ws_root):
    workspace.FeedBlob("w", np.arange(6, dtype=np.float32).reshape(2, 3))
    path = str(ws_root / "m.minidb")
    workspace.RunOperatorOnce(CreateOperator("Save", ["w"], [], db=path, absolute_path=1,
                                             db_type="minidb"))
    workspace.ResetWorkspace(str(ws_root))
    workspace.RunOperatorOnce(CreateOperator("CreateDB", [], ["reader"], db=path,
                                             db_type="minidb"))
    reader = workspace.FetchBlob("reader")
    assert isinstance(reader, DBReader) and reader.source == path
    workspace.RunOperatorOnce(CreateOperator("Load", ["reader"], ["w"]))
    np.testing.assert_array_equal(workspace.FetchBlob("w"),
                                  np.arange(6, dtype=np.float32).reshape(2, 3))


def test_missing_db_fails_at_load(ws_root):
    workspace.RunOperatorOnce(CreateOperator("CreateDB", [], ["r"], db=str(ws_root / "no"),
                                             db_type="minidb"))
    with pytest.raises(EnforceError, match="Cannot open file: .*no"):
        workspace.RunOperatorOnce(CreateOperator("Load", ["r"], ["w"]))


def test_errors():
    check_raises(CreateOperator("CreateDB", [], ["r"], db_type="minidb"), [], EnforceError,
                 "Must specify a db name.")
    check_raises(CreateOperator("CreateDB", [], ["r"], db="x", db_type="nodb"), [],
                 EnforceError, "Cannot find db implementation of type nodb")
