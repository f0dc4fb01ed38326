"""StoreWait: waits for keys, from the argument or a string-tensor input."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed import mpi_store
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def store_ws(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"], path=str(tmp_path)))
    ws.feed_blob("a", np.zeros(1))
    ws.run_operator_once(CreateOperator("StoreSet", ["h", "a"], []))
    return ws


def test_present_keys_return_at_once(tmp_path):
    ws = store_ws(tmp_path)
    ws.run_operator_once(CreateOperator("StoreWait", ["h"], [], blob_names=["a"]))
    ws.feed_blob("names", np.array(["a"], dtype=object))
    ws.run_operator_once(CreateOperator("StoreWait", ["h", "names"], []))


def test_errors(tmp_path, monkeypatch):
    ws = store_ws(tmp_path)
    ws.feed_blob("names", np.array(["a"], dtype=object))
    with pytest.raises(EnforceError, match="cannot specify both argument and input blob"):
        ws.run_operator_once(CreateOperator("StoreWait", ["h", "names"], [], blob_names=["a"]))
    h = mpi_store.FileStoreHandler(str(tmp_path))
    with pytest.raises(EnforceError, match=r"Wait timeout for name\(s\): b c"):
        h.wait(["a", "b", "c"], timeout_ms=30)


def test_gradient_decision():
    assert registry.gradient_entry("StoreWait").kind == registry.SHOULD_NOT_DO
