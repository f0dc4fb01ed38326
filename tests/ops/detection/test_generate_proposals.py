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
    bad[0] = np.zeros((1, 2, 2), np.float32)
    check_raises(op, bad, ShapeError, r"scores.ndim\(\) == 4")


# -- Caffe2's C++ test cases (generate_proposals_op_test.cc) ------------------------------


def test_compute_all_anchors():
    from caffe2lite.ops.detection.generate_proposals import all_anchors

    anchors = np.array(
        [[-38, -16, 53, 31], [-84, -40, 99, 55], [-176, -88, 191, 103]], np.float32
    )
    got = all_anchors(anchors, 4, 3, np.float32(16))
    want = [
        a + np.array([16 * x, 16 * y, 16 * x, 16 * y])
        for y in range(4)
        for x in range(3)
        for a in anchors
    ]
    np.testing.assert_array_equal(got, np.array(want, np.float32))


def test_empty():
    n, a, h, w = 3, 4, 10, 8
    deltas = np.linspace(0, 10, n * 4 * a * h * w, dtype=np.float32).reshape(
        n, 4 * a, h, w
    )
    rois, probs = run(
        [
            np.ones((n, a, h, w), np.float32),
            deltas,
            np.full((n, 3), 0.1, np.float32),
            np.ones((a, 4), np.float32),
        ],
        spatial_scale=2.0,
    )
    assert rois.size == 0 and probs.size == 0


SCORES = [
    5.44218998e-03,
    1.19207997e-03,
    1.12379994e-03,
    1.17181998e-03,
    1.20544003e-03,
    6.17993006e-04,
    1.05261997e-05,
    8.91025957e-06,
    9.29536981e-09,
    6.09605013e-05,
    4.72735002e-04,
    1.13482002e-10,
    1.50015003e-05,
    4.45032993e-06,
    3.21612994e-08,
    8.02662980e-04,
    1.40488002e-04,
    3.12508007e-07,
    3.02616991e-06,
    1.97759000e-08,
    2.66913995e-02,
    5.26766013e-03,
    5.05053019e-03,
    5.62100019e-03,
    5.37420018e-03,
    5.26280981e-03,
    2.48894998e-04,
    1.06842002e-04,
    3.92931997e-06,
    1.79388002e-03,
    4.79440019e-03,
    3.41609990e-07,
    5.20430971e-04,
    3.34090000e-05,
    2.19159006e-07,
    2.28786003e-03,
    5.16703985e-05,
    4.04523007e-06,
    1.79227004e-06,
    5.32449000e-08,
]
DELTAS = [
    -1.65040009e-02,
    -1.84051003e-02,
    -1.85930002e-02,
    -2.08263006e-02,
    -1.83814000e-02,
    -2.89172009e-02,
    -3.89706008e-02,
    -7.52277970e-02,
    -1.54091999e-01,
    -2.55433004e-02,
    -1.77490003e-02,
    -1.10340998e-01,
    -4.20190990e-02,
    -2.71421000e-02,
    6.89801015e-03,
    5.71171008e-02,
    -1.75665006e-01,
    2.30021998e-02,
    3.08554992e-02,
    -1.39333997e-02,
    3.40579003e-01,
    3.91070992e-01,
    3.91624004e-01,
    3.92527014e-01,
    3.91445011e-01,
    3.79328012e-01,
    4.26631987e-01,
    3.64892989e-01,
    2.76894987e-01,
    5.13985991e-01,
    3.79999995e-01,
    1.80457994e-01,
    4.37402993e-01,
    4.18545991e-01,
    2.51549989e-01,
    4.48318988e-01,
    1.68564007e-01,
    4.65440989e-01,
    4.21891987e-01,
    4.45928007e-01,
    3.27155995e-03,
    3.71480011e-03,
    3.60032008e-03,
    4.27092984e-03,
    3.74579988e-03,
    5.95752988e-03,
    -3.14473989e-03,
    3.52022005e-03,
    -1.88564006e-02,
    1.65188999e-03,
    1.73791999e-03,
    -3.56074013e-02,
    -1.66615995e-04,
    3.14146001e-03,
    -1.11830998e-02,
    -5.35363983e-03,
    6.49790000e-03,
    -9.27671045e-03,
    -2.83346009e-02,
    -1.61233004e-02,
    -2.15505004e-01,
    -2.19910994e-01,
    -2.20872998e-01,
    -2.12831005e-01,
    -2.19145000e-01,
    -2.27687001e-01,
    -3.43973994e-01,
    -2.75869995e-01,
    -3.19516987e-01,
    -2.50418007e-01,
    -2.48537004e-01,
    -5.08224010e-01,
    -2.28724003e-01,
    -2.82402009e-01,
    -3.75815988e-01,
    -2.86352992e-01,
    -5.28333001e-02,
    -4.43836004e-01,
    -4.55134988e-01,
    -4.34897989e-01,
    -5.65053988e-03,
    -9.25739005e-04,
    -1.06790999e-03,
    -2.37016007e-03,
    -9.71166010e-04,
    -8.90910998e-03,
    -1.17592998e-02,
    -2.08992008e-02,
    -4.94231991e-02,
    6.63906988e-03,
    3.20469006e-03,
    -6.44695014e-02,
    -3.11607006e-03,
    2.02738005e-03,
    1.48096997e-02,
    4.39785011e-02,
    -8.28424022e-02,
    3.62076014e-02,
    2.71668993e-02,
    1.38250999e-02,
    6.76669031e-02,
    1.03252999e-01,
    1.03255004e-01,
    9.89722982e-02,
    1.03646003e-01,
    4.79663983e-02,
    1.11014001e-01,
    9.31736007e-02,
    1.15768999e-01,
    1.04014002e-01,
    -8.90677981e-03,
    1.13103002e-01,
    1.33085996e-01,
    1.25405997e-01,
    1.50051996e-01,
    -1.13038003e-01,
    7.01059997e-02,
    1.79651007e-01,
    1.41055003e-01,
    1.62841007e-01,
    -1.00247003e-02,
    -8.17587040e-03,
    -8.32176022e-03,
    -8.90108012e-03,
    -8.13035015e-03,
    -1.77263003e-02,
    -3.69572006e-02,
    -3.51580009e-02,
    -5.92143014e-02,
    -1.80795006e-02,
    -5.46086021e-03,
    -4.10550982e-02,
    -1.83081999e-02,
    -2.15411000e-02,
    -1.17953997e-02,
    3.33894007e-02,
    -5.29635996e-02,
    -6.97528012e-03,
    -3.15250992e-03,
    -3.27355005e-02,
    1.29676998e-01,
    1.16080999e-01,
    1.15947001e-01,
    1.21797003e-01,
    1.16089001e-01,
    1.44875005e-01,
    1.15617000e-01,
    1.31586999e-01,
    1.74735002e-02,
    1.21973999e-01,
    1.31596997e-01,
    2.48907991e-02,
    6.18605018e-02,
    1.12855002e-01,
    -6.99798986e-02,
    9.58312973e-02,
    1.53593004e-01,
    -8.75087008e-02,
    -4.92327996e-02,
    -3.32239009e-02,
]
ROIS_GT = [
    [0, 0, 0, 79, 59],
    [0, 0, 5.0005703, 51.6324, 42.6950],
    [0, 24.13628387, 7.51243401, 79, 45.0663],
    [0, 0, 7.50924301, 67.4779, 45.0336],
    [0, 0, 23.09477997, 50.61448669, 59],
    [0, 0, 39.52141571, 51.44710541, 59],
    [0, 23.57396317, 29.98791885, 79, 59],
    [0, 0, 41.90219116, 79, 59],
    [0, 0, 23.30098343, 78.2413, 58.7287],
]
PROBS_GT = [
    2.66913995e-02,
    5.44218998e-03,
    1.20544003e-03,
    1.19207997e-03,
    6.17993006e-04,
    4.72735002e-04,
    6.09605013e-05,
    1.50015003e-05,
    8.91025957e-06,
]


def test_real_down_sampled():
    inputs = [
        np.array(SCORES, np.float32).reshape(1, 2, 4, 5),
        np.array(DELTAS, np.float32).reshape(1, 8, 4, 5),
        np.array([[60, 80, 0.166667]], np.float32),
        np.array([[-38, -16, 53, 31], [-120, -120, 135, 135]], np.float32),
    ]
    rois, probs = run(
        inputs,
        spatial_scale=1 / 16,
        pre_nms_topN=6000,
        post_nms_topN=300,
        nms_thresh=0.7,
        min_size=16.0,
        correct_transform_coords=True,
    )
    assert rois.shape == (9, 5)
    np.testing.assert_allclose(rois, ROIS_GT, atol=1e-4)
    np.testing.assert_allclose(probs, PROBS_GT, atol=1e-4)


def test_rotated_angle0_matches_upright():
    """Caffe2's TestRealDownSampledRotatedAngle0: the same case with [ctr, w, h, 0]
    anchors and zero angle deltas gives the same proposals."""
    anchors = np.array([[-38, -16, 53, 31], [-120, -120, 135, 135]], np.float32)
    rot = np.stack(
        [
            (anchors[:, 0] + anchors[:, 2]) / 2,
            (anchors[:, 1] + anchors[:, 3]) / 2,
            anchors[:, 2] - anchors[:, 0] + 1,
            anchors[:, 3] - anchors[:, 1] + 1,
            np.zeros(2),
        ],
        1,
    ).astype(np.float32)
    deltas = np.array(DELTAS, np.float32).reshape(1, 2, 4, 4, 5)
    deltas5 = np.concatenate([deltas, np.zeros((1, 2, 1, 4, 5), np.float32)], 2)
    inputs = [
        np.array(SCORES, np.float32).reshape(1, 2, 4, 5),
        deltas5.reshape(1, 10, 4, 5),
        np.array([[60, 80, 0.166667]], np.float32),
        rot,
    ]
    rois, probs = run(
        inputs,
        spatial_scale=1 / 16,
        pre_nms_topN=6000,
        post_nms_topN=300,
        nms_thresh=0.7,
        min_size=16.0,
    )
    gt = np.array(ROIS_GT, np.float32)
    want = np.stack(
        [
            gt[:, 0],
            (gt[:, 1] + gt[:, 3]) / 2,
            (gt[:, 2] + gt[:, 4]) / 2,
            gt[:, 3] - gt[:, 1] + 1,
            gt[:, 4] - gt[:, 2] + 1,
            np.zeros(len(gt)),
        ],
        1,
    )
    assert rois.shape == (9, 6)
    np.testing.assert_allclose(rois, want, atol=1e-3)
    np.testing.assert_allclose(probs, PROBS_GT, atol=1e-4)
