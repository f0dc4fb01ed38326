from __future__ import annotations

import math

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.errors import ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

OUTS = ["f2", "f3", "f4", "f5", "restore"]


def run(rois, **args):
    ws = Workspace()
    ws.feed_blob("rois", rois)
    ws.run(CreateOperator("DistributeFpnProposals", ["rois"], OUTS, **args))
    return [ws.fetch_blob(o) for o in OUTS]


@pytest.mark.parametrize("cols", [4, 5])
def test_matches_loop(cols):
    rng = np.random.default_rng(cols)
    xy = rng.uniform(0, 300, (20, 2))
    wh = rng.uniform(1, 500, (20, 2))
    rois = np.concatenate([np.zeros((20, 1)), xy, xy + wh], 1).astype(np.float32)[
        :, 5 - cols :
    ]
    got = run(rois)
    full = np.zeros((20, 5), np.float32)
    full[:, 5 - cols :] = rois
    levels = []
    for r in full:
        area = (r[3] - r[1] + 1) * (r[4] - r[2] + 1)
        levels.append(
            min(max(math.floor(4 + math.log2(math.sqrt(area) / 224 + 1e-6)), 2), 5)
        )
    order = []
    for i, lvl in enumerate(range(2, 6)):
        idx = [j for j, v in enumerate(levels) if v == lvl]
        np.testing.assert_array_equal(got[i], full[idx].reshape(-1, 5))
        order += idx
    assert got[-1].tolist() == [order.index(j) for j in range(20)]


def test_errors():
    op = CreateOperator("DistributeFpnProposals", ["rois"], ["a", "b"])
    check_raises(
        op,
        [np.zeros((1, 5), np.float32)],
        ShapeError,
        r"OutputSize\(\) == num_roi_lvls \+ 1. 2 vs 5",
    )
    op = CreateOperator("DistributeFpnProposals", ["rois"], OUTS)
    check_raises(op, [np.zeros((1, 3), np.float32)], ShapeError, "dim_rois == 4")
