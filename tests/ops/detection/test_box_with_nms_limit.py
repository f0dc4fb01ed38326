from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import Caffe2LiteError, ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

OUT = ["scores", "boxes", "classes", "batch_splits", "keeps", "keeps_size"]


def run(inputs, n_out=3, **args):
    names = ["in_scores", "in_boxes", "in_batch_splits"][: len(inputs)]
    ws = Workspace()
    for k, v in zip(names, inputs):
        ws.feed_blob(k, v)
    ws.run(CreateOperator("BoxWithNMSLimit", names, OUT[:n_out], **args))
    return [ws.fetch_blob(o) for o in OUT[:n_out]]


def gen_boxes(count, center):
    half = 5.0
    return np.tile(
        np.array(
            [center[0] - half, center[1] - half, center[0] + half, center[1] + half],
            np.float32,
        ),
        (count, 1),
    )


def gen_multiple(centers, scores, count, num_classes):
    box = np.vstack([gen_boxes(count, c) for c in centers])
    sc = np.vstack([np.full((count, 1), s, np.float32) for s in scores])
    return np.tile(box, (1, num_classes)), np.tile(sc, (1, num_classes))


# -- Caffe2's cases ----------------------------------------------------------------------


def test_simple():
    boxes, scores = gen_multiple([(0, 0), (20, 20), (50, 50)], [0.9, 0.8, 0.6], 10, 2)
    s, b, c = run([scores, boxes], score_thresh=0.5, nms=0.9)
    gt_b, gt_s = gen_multiple([(0, 0), (20, 20), (50, 50)], [0.9, 0.8, 0.6], 1, 1)
    np.testing.assert_allclose(s, gt_s.ravel())
    np.testing.assert_allclose(b, gt_b)
    np.testing.assert_array_equal(c, [1, 1, 1])


def test_score_thresh():
    boxes, scores = gen_multiple([(0, 0), (20, 20), (50, 50)], [0.7, 0.85, 0.6], 10, 2)
    s, b, _c = run([scores, boxes], score_thresh=0.8, nms=0.9)
    np.testing.assert_allclose(s, [0.85])
    np.testing.assert_allclose(b, gen_boxes(1, (20, 20)))


@pytest.mark.parametrize("det", [1, 2, 3])
def test_detections_per_im(det):
    boxes, scores = gen_multiple([(0, 0), (20, 20), (50, 50)], [0.7, 0.85, 0.6], 10, 2)
    s, b, _c = run([scores, boxes], score_thresh=0.5, nms=0.9, detections_per_im=det)
    centers = [(20, 20), (0, 0), (50, 50)][:det]
    np.testing.assert_allclose(s, [0.85, 0.7, 0.6][:det])
    np.testing.assert_allclose(b, np.vstack([gen_boxes(1, cc) for cc in centers]))


@pytest.mark.parametrize("num_classes", [2, 4])
@pytest.mark.parametrize("agnostic", [False, True])
@pytest.mark.parametrize("in_bg", [False, True])
@pytest.mark.parametrize("out_bg", [False, True])
def test_multiclass(num_classes, agnostic, in_bg, out_bg):
    boxes, scores = gen_multiple(
        [(0, 0), (20, 20), (50, 50)], [0.7, 0.85, 0.6], 10, num_classes
    )
    if not in_bg:
        boxes = boxes[:, 4:]
    if agnostic:
        boxes = boxes[:, :4]
    s, b, c = run(
        [scores, boxes],
        score_thresh=0.5,
        nms=0.9,
        detections_per_im=100,
        cls_agnostic_bbox_reg=agnostic,
        input_boxes_include_bg_cls=in_bg,
        output_classes_include_bg_cls=out_bg,
    )
    gt_b, gt_s = gen_multiple([(20, 20), (0, 0), (50, 50)], [0.85, 0.7, 0.6], 1, 1)
    gt_c = np.repeat(np.arange(1, num_classes, dtype=np.float32), 3) - (
        0 if out_bg else 1
    )
    np.testing.assert_allclose(s, np.tile(gt_s.ravel(), num_classes - 1))
    np.testing.assert_allclose(b, np.tile(gt_b, (num_classes - 1, 1)))
    np.testing.assert_array_equal(c, gt_c)


# -- against a naive reference -----------------------------------------------------------


def iou(a, b):
    w = max(min(a[2], b[2]) - max(a[0], b[0]) + 1, 0)
    h = max(min(a[3], b[3]) - max(a[1], b[1]) + 1, 0)
    inter = w * h
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)
    return inter / (area(a) + area(b) - inter)


def naive(
    scores,
    boxes,
    splits,
    thresh,
    nms_t,
    det,
    soft,
    method="linear",
    sigma=0.5,
    min_score=0.001,
):
    out_s, out_b, out_c, per_image, keeps_all = [], [], [], [], []
    start = 0
    for count in splits:
        sc, bx = (
            scores[start : start + count].astype(np.float64),
            boxes[start : start + count],
        )
        dets = []  # (score, class, row)
        for j in range(1, scores.shape[1]):
            cand = [i for i in range(count) if sc[i, j] > thresh]
            cur = {i: sc[i, j] for i in cand}
            kept = []
            while cand:
                if not soft and det > 0 and len(kept) >= det:
                    break
                best = max(cand, key=lambda i: (cur[i], -i))
                kept.append(best)
                cand.remove(best)
                a = bx[best, 4 * j : 4 * j + 4]
                for i in list(cand):
                    o = iou(a, bx[i, 4 * j : 4 * j + 4])
                    if soft:
                        wgt = (
                            (1 - o if o > nms_t else 1.0)
                            if method == "linear"
                            else math.exp(-o * o / sigma)
                        )
                        cur[i] *= wgt
                        if cur[i] < min_score:
                            cand.remove(i)
                    elif o > nms_t:
                        cand.remove(i)
            dets += [(cur[i], j, i) for i in kept]
        if det > 0 and len(dets) > det:
            chosen = sorted(dets, key=lambda d: -d[0])[:det]
            dets = sorted(chosen, key=lambda d: (d[1], -d[0]))
        for s, j, i in dets:
            out_s.append(s)
            out_b.append(bx[i, 4 * j : 4 * j + 4])
            out_c.append(j)
            keeps_all.append(i)
        per_image.append(len(dets))
        start += count
    return out_s, out_b, out_c, per_image, keeps_all


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(0, 8), min_size=1, max_size=3),
    st.integers(2, 4),
    st.sampled_from([0, 3, 100]),
    st.booleans(),
    st.sampled_from(["linear", "gaussian"]),
)
def test_matches_naive(seed, splits, num_classes, det, soft, method):
    rng = np.random.default_rng(seed)
    n = sum(splits)
    lo = rng.uniform(0, 40, (n, num_classes, 2))
    size = rng.uniform(2, 30, (n, num_classes, 2))
    boxes = (
        np.concatenate([lo, lo + size], -1)
        .reshape(n, 4 * num_classes)
        .astype(np.float32)
    )
    scores = rng.uniform(0, 1, (n, num_classes)).astype(np.float32)
    s, b, c, bs, k, ks = run(
        [scores, boxes, np.array(splits, np.float32)],
        6,
        score_thresh=0.2,
        nms=0.4,
        detections_per_im=det,
        soft_nms_enabled=soft,
        soft_nms_method=method,
    )
    ws, wb, wc, wbs, wk = naive(scores, boxes, splits, 0.2, 0.4, det, soft, method)
    np.testing.assert_allclose(s, ws, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b.reshape(-1, 4), np.array(wb).reshape(-1, 4))
    assert c.tolist() == wc and bs.tolist() == wbs and k.tolist() == wk
    assert (
        k.dtype == np.int32
        and ks.dtype == np.int32
        and ks.shape == (len(splits), num_classes)
    )
    assert ks.sum() == len(k)


def test_int_batch_splits_and_four_d_inputs():
    boxes, scores = gen_multiple([(0, 0), (20, 20)], [0.9, 0.8], 2, 2)
    s1 = run([scores, boxes, np.array([2, 2], np.int32)], 4)
    s2 = run(
        [
            scores[:, :, None, None],
            boxes[:, :, None, None],
            np.array([2.0, 2.0], np.float32),
        ],
        4,
    )
    for a, b in zip(s1, s2):
        np.testing.assert_array_equal(a, b)
    assert s1[3].tolist() == [1, 1]


def test_should_not_do_gradient():
    op = CreateOperator("BoxWithNMSLimit", ["s", "b"], ["os", "ob", "oc"])
    with pytest.raises(Caffe2LiteError):
        GradientRegistry.GetBackwardPass([op], {"os": "os_grad"})


def test_errors():
    op = CreateOperator("BoxWithNMSLimit", ["s", "b"], ["os", "ob", "oc"])
    check_raises(
        op,
        [np.zeros((2, 2), np.float32), np.zeros((2, 4), np.float32)],
        ShapeError,
        r"num_boxes_classes \* box_dim == tboxes.size\(1\). 8 vs 4",
    )
    check_raises(
        op,
        [np.zeros((2, 2), np.float32), np.zeros((3, 8), np.float32)],
        ShapeError,
        r"N == tboxes.size\(0\)",
    )
    op3 = CreateOperator("BoxWithNMSLimit", ["s", "b", "sp"], ["os", "ob", "oc"])
    check_raises(
        op3,
        [
            np.zeros((2, 2), np.float32),
            np.zeros((2, 8), np.float32),
            np.array([1.0], np.float32),
        ],
        ShapeError,
        r"batch_splits.sum\(\) == N",
    )


# -- rotated boxes --------------------------------------------------------------------


def rect(box):
    """Corners of [cx, cy, w, h, angle] counter-clockwise in the plane's y-down sense
    Caffe2 used (its angle turns the other way round from the maths convention)."""
    cx, cy, w, h, a = (float(v) for v in box)
    t = math.radians(-a)
    c, s_ = math.cos(t), math.sin(t)
    pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return [(cx + x * c - y * s_, cy + x * s_ + y * c) for x, y in pts]


def clip(poly, a, b):
    """Sutherland-Hodgman: the part of poly on the inner side of the edge a -> b."""

    def side(p):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])

    out = []
    for i, p in enumerate(poly):
        q = poly[(i + 1) % len(poly)]
        sp, sq = side(p), side(q)
        if sp >= 0:
            out.append(p)
        if sp * sq < 0:
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return out


def poly_area(poly):
    return (
        abs(sum(p[0] * q[1] - q[0] * p[1] for p, q in zip(poly, poly[1:] + poly[:1])))
        / 2
    )


def rotated_iou(a, b):
    inter = rect(a)
    for i in range(4):
        if not inter:
            break
        inter = clip(inter, rect(b)[i], rect(b)[(i + 1) % 4])
    area = poly_area(inter) if len(inter) > 2 else 0.0
    return area / (a[2] * a[3] + b[2] * b[3] - area)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_rotated_matches_polygon_clipping(seed):
    rng = np.random.default_rng(seed)
    n = 8
    boxes = np.concatenate(
        [
            rng.uniform(0, 20, (n, 2)),
            rng.uniform(2, 10, (n, 2)),
            rng.uniform(-90, 90, (n, 1)),
        ],
        1,
    ).astype(np.float32)
    scores = np.stack([np.zeros(n), rng.uniform(0.1, 1, n)], 1).astype(np.float32)
    s, b, _ = run(
        [scores, np.tile(boxes, (1, 2))], rotated=True, score_thresh=0.05, nms=0.3
    )
    order = sorted(range(n), key=lambda i: -scores[i, 1])
    kept = []
    while order:
        i = order.pop(0)
        kept.append(i)
        order = [j for j in order if rotated_iou(boxes[i], boxes[j]) <= 0.3]
    assert b.shape == (len(kept), 5)
    np.testing.assert_allclose(b, boxes[kept])
    np.testing.assert_allclose(s, scores[kept, 1])
