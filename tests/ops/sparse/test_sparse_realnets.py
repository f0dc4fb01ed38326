"""Glow's gather_ranges importer net runs with the inputs Caffe2ImporterTest feeds:
data float (6,), ranges int32 (2, 2, 2); glow states OUTPUT has 5 entries and LENGTHS
2 (its maxOutputSize argument is glow's own and Caffe2 ignores it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

NETS = Path("/work/shared/realnets/glow_caffe2Models")


@pytest.mark.skipif(not NETS.is_dir(), reason="glow nets not available")
def test_gather_ranges():
    data = np.array([1, 2, 3, 4, 5, 6], np.float32)
    ranges = np.array([[[0, 1], [2, 2]], [[4, 1], [5, 1]]], np.int32)
    ws = Workspace()
    ws.feed_blob("data", data)
    ws.feed_blob("ranges", ranges)
    ws.run_net_once(load_net(NETS / "gather_ranges.pbtxt"))
    out, lengths = ws.fetch_blob("output"), ws.fetch_blob("lengths")
    assert out.shape == (5,) and lengths.shape == (2,)
    assert out.tolist() == [1, 3, 4, 5, 6] and lengths.tolist() == [3, 2]
