"""StoreAdd: an atomic counter in a store."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace


def test_counts_from_zero(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"], path=str(tmp_path)))
    values = []
    for add in (1, 5, -2):
        ws.run_operator_once(CreateOperator("StoreAdd", ["h"], ["v"], blob_name="c", add_value=add))
        v = ws.fetch_blob("v")
        assert v.dtype == np.int64 and v.shape == ()
        values.append(int(v))
    assert values == [1, 6, 4]


def test_blob_name_required(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"], path=str(tmp_path)))
    with pytest.raises(EnforceError, match="StoreAdd needs the blob_name argument"):
        ws.run_operator_once(CreateOperator("StoreAdd", ["h"], ["v"]))


def test_not_a_counter(tmp_path):
    ws = Workspace()
    ws.run_operator_once(CreateOperator("FileStoreHandlerCreate", [], ["h"], path=str(tmp_path)))
    ws.feed_blob("x", np.zeros(1))
    ws.run_operator_once(CreateOperator("StoreSet", ["h", "x"], []))
    with pytest.raises(EnforceError, match="key 'x' does not hold a counter"):
        ws.run_operator_once(CreateOperator("StoreAdd", ["h"], ["v"], blob_name="x"))


def test_gradient_decision():
    assert registry.gradient_entry("StoreAdd").kind == registry.SHOULD_NOT_DO
