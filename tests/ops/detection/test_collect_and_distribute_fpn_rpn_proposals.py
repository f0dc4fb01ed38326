from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import Caffe2LiteError, EnforceError, ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

OP = "CollectAndDistributeFpnRpnProposals"


def naive(rois_list, scores_list, topn, lo, hi, s0, l0):
    rows = [
        (float(s), i, r)
        for i, (s, r) in enumerate(
            zip(np.concatenate(scores_list), np.concatenate(rois_list))
        )
    ]
    rows.sort(key=lambda t: (-t[0], t[1]))
    if topn > 0:
        rows = rows[:topn]
    rois = np.array([r for _, _, r in rows], np.float32).reshape(-1, 5)
    levels = []
    for r in rois:
        area = (r[3] - r[1] + 1) * (r[4] - r[2] + 1)
        lvl = math.floor(l0 + math.log2(math.sqrt(area) / s0 + 1e-6))
        levels.append(min(max(lvl, lo), hi))
    outs = [rois]
    order = []
    for lvl in range(lo, hi + 1):
        idx = [i for i, v in enumerate(levels) if v == lvl]
        outs.append(rois[idx].reshape(-1, 5))
        order += idx
    restore = [order.index(i) for i in range(len(order))]
    return outs + [np.array(restore, np.int32)]


def run(rois_list, scores_list, **args):
    lo, hi = args.get("roi_min_level", 2), args.get("roi_max_level", 5)
    names = [f"r{i}" for i in range(len(rois_list))] + [
        f"s{i}" for i in range(len(rois_list))
    ]
    outs = ["rois"] + [f"fpn{lvl}" for lvl in range(lo, hi + 1)] + ["restore"]
    ws = Workspace()
    for name, v in zip(names, list(rois_list) + list(scores_list)):
        ws.feed_blob(name, v)
    ws.run(CreateOperator(OP, names, outs, **args))
    return [ws.fetch_blob(o) for o in outs]


def random_level(rng, n, size):
    xy = rng.uniform(0, size, (n, 2))
    wh = rng.uniform(1, size, (n, 2))
    return np.concatenate([rng.integers(0, 2, (n, 1)), xy, xy + wh], 1).astype(
        np.float32
    )


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(0, 6), min_size=5, max_size=5),
    st.sampled_from([0, 4, 2000]),
)
def test_matches_naive_default_levels(seed, counts, topn):
    rng = np.random.default_rng(seed)
    rois = [random_level(rng, n, 600) for n in counts]
    scores = [rng.uniform(0, 1, n).astype(np.float32) for n in counts]
    got = run(rois, scores, rpn_post_nms_topN=topn)
    want = naive(rois, scores, topn, 2, 5, 224, 4)
    assert len(got) == 6
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
    # the restore permutation undoes the level split
    np.testing.assert_array_equal(np.concatenate(got[1:-1])[got[-1]], got[0])


def test_score_ties_keep_position_order():
    r = np.array([[0, 0, 0, 10, 10], [0, 1, 1, 11, 11]], np.float32)
    got = run(
        [r, r[:0]],
        [np.array([0.5, 0.5], np.float32), np.zeros(0, np.float32)],
        rpn_min_level=2,
        rpn_max_level=3,
        roi_min_level=2,
        roi_max_level=2,
    )
    np.testing.assert_array_equal(got[0], r)


def test_should_not_do_gradient():
    op = CreateOperator(OP, ["a", "b"], ["r", "f", "i"])
    with pytest.raises(Caffe2LiteError):
        GradientRegistry.GetBackwardPass([op], {"r": "r_grad"})


def test_errors():
    r = np.array([[0, 0, 0, 10, 10]], np.float32)
    s = np.array([0.5], np.float32)
    op = CreateOperator(OP, ["r", "s"], ["rois", "f2", "idx"])
    check_raises(op, [r, s], ShapeError, r"InputSize\(\) == 2 \* num_rpn_lvls. 2 vs 10")
    op = CreateOperator(
        OP, ["r", "s"], ["rois", "f2", "idx"], rpn_min_level=2, rpn_max_level=2
    )
    check_raises(op, [r, s], ShapeError, r"OutputSize\(\) == num_roi_lvls \+ 2. 3 vs 6")
    op = CreateOperator(
        OP,
        ["r", "s"],
        ["rois", "f2", "idx"],
        rpn_min_level=2,
        rpn_max_level=2,
        roi_min_level=2,
        roi_max_level=2,
    )
    check_raises(
        op,
        [np.array([[0, 10, 0, 0, 5]], np.float32), s],
        EnforceError,
        "Negative areas founds",
    )
