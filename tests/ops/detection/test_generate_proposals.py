from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, Caffe2LiteError, ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

CLIP = math.log(1000 / 16)
NAMES = ["scores", "bbox_deltas", "im_info", "anchors"]


def run(inputs, op_type="GenerateProposals", **args):
    ws = Workspace()
    for k, v in zip(NAMES, inputs):
        ws.feed_blob(k, v)
    ws.run(CreateOperator(op_type, NAMES, ["rois", "rois_probs"], **args))
    return ws.fetch_blob("rois"), ws.fetch_blob("rois_probs")


def naive(scores, deltas, im_info, anchors, scale, pre, post, nms_t, min_size):
    """Detectron's procedure, one anchor and one box pair at a time, in float64."""
    n, a, h, w = scores.shape
    stride = 1 / scale
    rois, probs = [], []
    for i in range(n):
        cands = []
        for y in range(h):
            for x in range(w):
                for k in range(a):
                    anc = anchors[k] + np.array([x, y, x, y]) * stride
                    d = deltas[i, 4 * k : 4 * k + 4, y, x]
                    cands.append((float(scores[i, k, y, x]), anc, d))
        order = sorted(range(len(cands)), key=lambda j: -cands[j][0])
        if 0 < pre < len(order):
            order = order[:pre]
        hgt, wid, sc = (float(v) for v in im_info[i])
        boxes = []
        for j in order:
            s, anc, d = cands[j]
            bw, bh = anc[2] - anc[0] + 1, anc[3] - anc[1] + 1
            cx, cy = anc[0] + bw / 2, anc[1] + bh / 2
            px, py = d[0] * bw + cx, d[1] * bh + cy
            pw, ph = math.exp(min(d[2], CLIP)) * bw, math.exp(min(d[3], CLIP)) * bh
            b = [px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2]
            b = [
                min(max(v, 0), lim)
                for v, lim in zip(
                    b, [int(wid) - 1, int(hgt) - 1, int(wid) - 1, int(hgt) - 1]
                )
            ]
            bw2, bh2 = b[2] - b[0] + 1, b[3] - b[1] + 1
            if (
                bw2 >= min_size * sc
                and bh2 >= min_size * sc
                and b[0] + bw2 / 2 < wid
                and b[1] + bh2 / 2 < hgt
            ):
                boxes.append((s, b))
        kept = []
        while boxes and (post <= 0 or len(kept) < post):
            s, b = boxes.pop(0)
            kept.append((s, b))
            boxes = [(s2, b2) for s2, b2 in boxes if iou(b, b2) <= nms_t]
        for s, b in kept:
            rois.append([i] + b)
            probs.append(s)
    return np.array(rois).reshape(-1, 5), np.array(probs)


def iou(a, b):
    iw = max(min(a[2], b[2]) - max(a[0], b[0]) + 1, 0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]) + 1, 0)
    inter = iw * ih
    ar = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)
    return inter / (ar(a) + ar(b) - inter)


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 2),
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([0, 5, 1000]),
    st.sampled_from([0, 3, 300]),
    st.sampled_from([0.5, 0.7]),
)
def test_matches_naive(seed, n, a, h, w, pre, post, nms_t):
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 1, (n, a, h, w)).astype(np.float32)
    deltas = (rng.standard_normal((n, 4 * a, h, w)) * 0.3).astype(np.float32)
    im_info = np.array([[64, 80, 1.0]] * n, np.float32)
    size = rng.uniform(8, 40, (a, 2))
    anchors = np.concatenate([-size / 2, size / 2], 1).astype(np.float32)
    rois, probs = run(
        [scores, deltas, im_info, anchors],
        spatial_scale=1 / 16,
        pre_nms_topN=pre,
        post_nms_topN=post,
        nms_thresh=nms_t,
        min_size=4.0,
    )
    want_r, want_p = naive(
        scores, deltas, im_info, anchors, 1 / 16, pre, post, nms_t, 4.0
    )
    assert rois.dtype == np.float32 and probs.dtype == np.float32
    assert rois.shape == want_r.shape, (rois, want_r)
    np.testing.assert_allclose(rois, want_r, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(probs, want_p, rtol=1e-6)


def test_old_name_is_the_same_op():
    inputs = [
        np.array([[[[0.9, 0.1]]]], np.float32),
        np.zeros((1, 4, 1, 2), np.float32),
        np.array([[40, 40, 1.0]], np.float32),
        np.array([[0, 0, 15, 15]], np.float32),
    ]
    a = run(inputs, min_size=4.0)
    b = run(inputs, "GenerateProposalsCPP", min_size=4.0)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a[0], [[0, 0, 0, 16, 16], [0, 16, 0, 32, 16]])


def test_min_size_scaled_and_empty_result():
    inputs = [
        np.array([[[[0.9]]]], np.float32),
        np.zeros((1, 4, 1, 1), np.float32),
        np.array([[40, 40, 2.0]], np.float32),
        np.array([[0, 0, 15, 15]], np.float32),
    ]
    rois, probs = run(inputs, min_size=9.0)  # 16 < 9 * 2
    assert rois.shape == (0, 5) and probs.shape == (0,)


def test_should_not_do_gradient():
    op = CreateOperator("GenerateProposals", NAMES, ["r", "p"])
    with pytest.raises(Caffe2LiteError):
        GradientRegistry.GetBackwardPass([op], {"r": "r_grad"})


def test_errors():
    op = CreateOperator("GenerateProposals", NAMES, ["rois", "rois_probs"])
    good = [
        np.zeros((1, 1, 2, 2), np.float32),
        np.zeros((1, 4, 2, 2), np.float32),
        np.ones((1, 3), np.float32),
        np.zeros((1, 4), np.float32),
    ]
    bad = list(good)
    bad[1] = np.zeros((1, 4, 2, 3), np.float32)
    check_raises(op, bad, ShapeError, r"bbox_deltas.dims\(\)")
    bad = list(good)
    bad[2] = np.ones((2, 3), np.float32)
    check_raises(op, bad, ShapeError, r"im_info_tensor.dims\(\)")
    bad = list(good)
    bad[3] = np.zeros((2, 4), np.float32)
    check_raises(op, bad, ShapeError, r"anchors.dims\(\)")
    bad = list(good)
    bad[3] = np.zeros((1, 5), np.float32)
    check_raises(op, bad, ArgumentError, "rotated")
    bad = list(good)
    bad[0] = np.zeros((1, 2, 2), np.float32)
    check_raises(op, bad, ShapeError, r"scores.ndim\(\) == 4")
