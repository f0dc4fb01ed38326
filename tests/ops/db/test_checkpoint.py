"""Checkpoint: saves every ``every`` iterations under a sprintf-style name."""

from __future__ import annotations

import numpy as np
import pytest
from caffe2lite.ops.db.checkpoint import format_pattern

from caffe2lite import core, workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.io.blobproto import deserialize_records
from caffe2lite.io.db import read_db
from caffe2lite.testing import check_raises


def test_format_pattern_as_sprintf():
    assert format_pattern("/c/at_%08d.db", 42) == "/c/at_00000042.db"
    assert format_pattern("at_%ld_%%", 7) == "at_7_%"
    assert format_pattern("fixed", 7) == "fixed"
    assert format_pattern("%x", 255) == "ff"


def test_every_n_iterations_in_a_net(ws_root):
    net = core.Net("train")
    net.Add(["iter", "one"], "iter")
    net.Checkpoint(["iter", "w"], [], db="ckpt_%03d.minidb", db_type="minidb", every=2)
    workspace.FeedBlob("iter", np.array([0], np.int64))
    workspace.FeedBlob("one", np.array([1], np.int64))
    workspace.FeedBlob("w", np.arange(3, dtype=np.float32))
    workspace.CreateNet(net)
    workspace.RunNet("train", 5)
    files = sorted(p.name for p in ws_root.iterdir())
    assert files == ["ckpt_002.minidb", "ckpt_004.minidb"]
    saved = deserialize_records(read_db("minidb", str(ws_root / "ckpt_004.minidb")))
    assert list(saved) == ["iter", "w"]  # the counter is saved too
    np.testing.assert_array_equal(saved["iter"], [4])
    np.testing.assert_array_equal(saved["w"], np.arange(3, dtype=np.float32))


def test_errors():
    it = np.array([2], np.int64)
    check_raises(CreateOperator("Checkpoint", ["it"], [], db_type="minidb"), [it],
                 EnforceError, "Must specify a checkpoint file pattern.")
    check_raises(CreateOperator("Checkpoint", ["it"], [], db="x%d", db_type="minidb",
                                every=0), [it], EnforceError,
                 "Checkpoint interval should be positive.")
    check_raises(CreateOperator("Checkpoint", ["it"], [], db="x%d", db_type="minidb"),
                 [np.array([2], np.int32)], DTypeError, "int64")
    check_raises(CreateOperator("Checkpoint", ["it"], [], db="x%d", db_type="minidb"),
                 [np.zeros(0, np.int64)], EnforceError, "iteration counter is empty")


def test_skipped_iteration_writes_nothing(tmp_path):
    from caffe2lite.runtime.net import run_operator_once

    blobs = {"it": np.array([3], np.int64)}
    run_operator_once(CreateOperator("Checkpoint", ["it"], [], absolute_path=1,
                                     db=str(tmp_path / "c%d"), db_type="minidb",
                                     every=2), blobs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("op_type", ["Checkpoint", "Snapshot"])
def test_gradient_decision(op_type):
    from caffe2lite.schema import registry

    assert registry.gradient_entry(op_type).kind == "should_not_do_gradient"
