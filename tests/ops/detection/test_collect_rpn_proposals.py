from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace


def run(rois, scores, **args):
    names = [f"r{i}" for i in range(len(rois))] + [f"s{i}" for i in range(len(rois))]
    ws = Workspace()
    for k, v in zip(names, list(rois) + list(scores)):
        ws.feed_blob(k, v)
    ws.run(CreateOperator("CollectRpnProposals", names, ["rois"], **args))
    return ws.fetch_blob("rois")


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(0, 5), min_size=5, max_size=5),
    st.sampled_from([0, 3, 2000]),
)
def test_matches_sorted_loop(seed, counts, topn):
    rng = np.random.default_rng(seed)
    rois = [rng.uniform(0, 100, (n, 5)).astype(np.float32) for n in counts]
    scores = [rng.integers(0, 4, n).astype(np.float32) / 4 for n in counts]  # ties
    got = run(rois, scores, rpn_post_nms_topN=topn)
    rows = []
    for r, s in zip(rois, scores):
        rows += list(zip(s.tolist(), r.tolist()))
    ranked = sorted(range(len(rows)), key=lambda i: (-rows[i][0], i))
    want = [rows[i][1] for i in ranked]
    if topn > 0:
        want = want[:topn]
    np.testing.assert_array_equal(got, np.array(want, np.float32).reshape(-1, 5))


def test_errors():
    r = np.zeros((2, 5), np.float32)
    op = CreateOperator("CollectRpnProposals", ["r", "s"], ["rois"])
    check_raises(
        op,
        [r, np.zeros(2, np.float32)],
        ShapeError,
        r"InputSize\(\) == 2 \* num_rpn_lvls. 2 vs 10",
    )
    op = CreateOperator(
        "CollectRpnProposals", ["r", "s"], ["rois"], rpn_min_level=2, rpn_max_level=2
    )
    check_raises(
        op, [r, np.zeros(3, np.float32)], ShapeError, r"score_in.size\(0\) == n"
    )
