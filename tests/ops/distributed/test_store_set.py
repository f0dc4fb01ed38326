"""StoreSet: a blob into a store, as bytes (never a pickle)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed.mpi_store import FileStoreHandler, decode
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def store_ws(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"], path=str(tmp_path)))
    return ws


@pytest.mark.parametrize("value", [np.arange(6, dtype=np.float32).reshape(2, 3),
                                   np.array([b"a", b"bc"], dtype=object), np.zeros(0, np.int64)])
def test_tensor_round_trip(tmp_path, value):
    ws = store_ws(tmp_path)
    ws.feed_blob("v", value)
    ws.run_operator_once(CreateOperator("StoreSet", ["h", "v"], []))  # key: the blob's name
    stored = FileStoreHandler(str(tmp_path)).get("v")
    assert stored[:1] == b"T" and b"\x80" != stored[:1]  # a TensorProto, not a pickle
    got = decode(stored)
    assert got.dtype == value.dtype and got.shape == value.shape and got.tolist() == value.tolist()


def test_bytes_blob_and_blob_name(tmp_path):
    ws = store_ws(tmp_path)
    ws.feed_blob("v", b"\x00raw")
    ws.run_operator_once(CreateOperator("StoreSet", ["h", "v"], [], blob_name="other"))
    assert FileStoreHandler(str(tmp_path)).get("other") == b"B\x00raw"


def test_needs_a_handler():
    ws = Workspace()
    ws.feed_blob("h", np.zeros(1))
    ws.feed_blob("v", np.zeros(1))
    with pytest.raises(EnforceError, match="input 0 must be a store handler"):
        ws.run_operator_once(CreateOperator("StoreSet", ["h", "v"], []))


def test_gradient_decision():
    assert registry.gradient_entry("StoreSet").kind == registry.SHOULD_NOT_DO
