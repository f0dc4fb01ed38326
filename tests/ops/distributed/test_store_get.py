"""StoreGet: a blob from a store, waiting for it."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed import mpi_store
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def test_get_by_output_name_and_by_blob_name(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"], path=str(tmp_path)))
    ws.feed_blob("x", np.array([4, 5], np.int32))
    ws.run_operator_once(CreateOperator("StoreSet", ["h", "x"], []))
    ws.run_operator_once(CreateOperator("StoreGet", ["h"], ["y"], blob_name="x"))
    assert ws.fetch_blob("y").tolist() == [4, 5]
    ws.run_operator_once(CreateOperator("StoreAdd", ["h"], ["n"], blob_name="count", add_value=4))
    ws.run_operator_once(CreateOperator("StoreGet", ["h"], ["count"]))
    assert ws.fetch_blob("count") == b"4"


def test_missing_key_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(mpi_store, "DEFAULT_TIMEOUT_MS", 50)
    h = mpi_store.FileStoreHandler(str(tmp_path))
    with pytest.raises(EnforceError, match="Wait timeout for name\\(s\\): nope"):
        h.get("nope", timeout_ms=50)


def test_gradient_decision():
    assert registry.gradient_entry("StoreGet").kind == registry.SHOULD_NOT_DO
