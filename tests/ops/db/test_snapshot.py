"""Snapshot: Caffe2's old name of Checkpoint behaves the same."""

from __future__ import annotations

import numpy as np

from caffe2lite.core import CreateOperator
from caffe2lite.io.blobproto import deserialize_records
from caffe2lite.io.db import read_db
from caffe2lite.runtime.net import run_operator_once


def test_same_as_checkpoint(tmp_path):
    for op_type in ("Snapshot", "Checkpoint"):
        blobs = {"it": np.array([6], np.int64), "w": np.ones(2, np.float32)}
        run_operator_once(CreateOperator(op_type, ["it", "w"], [], absolute_path=1,
                                         db=str(tmp_path / f"{op_type}_%d"),
                                         db_type="minidb", every=3), blobs)
    a = deserialize_records(read_db("minidb", str(tmp_path / "Snapshot_6")))
    b = deserialize_records(read_db("minidb", str(tmp_path / "Checkpoint_6")))
    assert list(a) == list(b) == ["it", "w"]
    assert (tmp_path / "Snapshot_6").read_bytes() == (tmp_path / "Checkpoint_6").read_bytes()
