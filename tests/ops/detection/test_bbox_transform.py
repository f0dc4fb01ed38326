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

CLIP = math.log(1000 / 16)


def naive_box(box, d, rotated, correct, bound_on, h, w, thresh):
    """One box, one class, in float64 (Detectron's boxes.py formulas)."""
    if not rotated:
        bw, bh = box[2] - box[0] + 1, box[3] - box[1] + 1
        cx, cy = box[0] + 0.5 * bw, box[1] + 0.5 * bh
        px, py = d[0] * bw + cx, d[1] * bh + cy
        pw, ph = math.exp(min(d[2], CLIP)) * bw, math.exp(min(d[3], CLIP)) * bh
        off = 1 if correct else 0
        out = [px - pw / 2, py - ph / 2, px + pw / 2 - off, py + ph / 2 - off]
        lim = [w - 1, h - 1, w - 1, h - 1]
        return [max(min(v, m), 0) for v, m in zip(out, lim)]
    out = [
        d[0] * box[2] + box[0],
        d[1] * box[3] + box[1],
        math.exp(min(d[2], CLIP)) * box[2],
        math.exp(min(d[3], CLIP)) * box[3],
        d[4] * 180 / math.pi + box[4],
    ]
    if bound_on:
        if out[4] < -90:
            out[4] += 180
        elif out[4] > 90:
            out[4] -= 180
    if abs(out[4]) <= thresh:
        x1 = max(min(out[0] - (out[2] - 1) / 2, w - 1), 0)
        x2 = max(min(out[0] + (out[2] - 1) / 2, w - 1), 0)
        y1 = max(min(out[1] - (out[3] - 1) / 2, h - 1), 0)
        y2 = max(min(out[1] + (out[3] - 1) / 2, h - 1), 0)
        out[:4] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1 + 1, y2 - y1 + 1]
    return out


def naive(rois, deltas, im_info, rotated, correct, bound_on, thresh, apply_scale):
    dim = 5 if rotated else 4
    k = deltas.shape[1] // dim
    ids = [int(r[0]) for r in rois] if rois.shape[1] == dim + 1 else [0] * len(rois)
    counts = [ids.count(i) for i in range(len(im_info))]
    out = np.zeros(deltas.shape)
    row = 0
    for i, count in enumerate(counts):
        hgt, wid, scale = (float(v) for v in im_info[i])
        h, w = int(hgt / scale + 0.5), int(wid / scale + 0.5)
        for _ in range(count):
            box = [float(v) for v in rois[row, -dim:]]
            box[:4] = [v / scale for v in box[:4]]
            for c in range(k):
                b = naive_box(
                    box,
                    [float(v) for v in deltas[row, c * dim : (c + 1) * dim]],
                    rotated,
                    correct,
                    bound_on,
                    h,
                    w,
                    thresh,
                )
                if apply_scale:
                    b[:4] = [v * scale for v in b[:4]]
                out[row, c * dim : (c + 1) * dim] = b
            row += 1
    return out, counts


def make_rois(rng, counts, dims, rotated):
    rows = []
    for i, (n, d) in enumerate(zip(counts, dims)):
        xy = rng.uniform(0, d, (n, 2, 2))
        lo, hi = xy.min(1), xy.max(1)
        if rotated:
            box = np.stack(
                [
                    (lo[:, 0] + hi[:, 0]) / 2,
                    (lo[:, 1] + hi[:, 1]) / 2,
                    hi[:, 0] - lo[:, 0] + 1,
                    hi[:, 1] - lo[:, 1] + 1,
                    rng.uniform(-90, 90, n),
                ],
                1,
            )
        else:
            box = np.concatenate([lo, hi], 1)
        rows.append(np.concatenate([np.full((n, 1), i), box], 1))
    dim = 6 if rotated else 5
    return (
        np.concatenate(rows).astype(np.float32)
        if rows
        else np.zeros((0, dim), np.float32)
    )


def run(inputs, outputs=("box_out",), **args):
    ws = Workspace()
    for name, v in zip(["rois", "deltas", "im_info"], inputs):
        ws.feed_blob(name, v)
    ws.run(
        CreateOperator(
            "BBoxTransform", ["rois", "deltas", "im_info"], list(outputs), **args
        )
    )
    return [ws.fetch_blob(o) for o in outputs]


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.lists(st.integers(0, 5), min_size=1, max_size=4),
    st.integers(1, 4),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([-1.0, 1.0]),
    st.booleans(),
    st.sampled_from([1.0, 0.5]),
)
def test_matches_naive(
    seed, counts, k, rotated, correct, bound_on, thresh, apply_scale, scale
):
    rng = np.random.default_rng(seed)
    dims = rng.integers(100, 600, len(counts))
    rois = make_rois(rng, counts, dims, rotated)
    dim = 5 if rotated else 4
    deltas = rng.standard_normal((len(rois), dim * k)).astype(np.float32)
    im_info = np.stack([dims, dims, np.full(len(dims), scale)], 1).astype(np.float32)
    box, splits = run(
        [rois, deltas, im_info],
        ("box_out", "roi_batch_splits"),
        apply_scale=apply_scale,
        correct_transform_coords=correct,
        rotated=rotated,
        angle_bound_on=bound_on,
        clip_angle_thresh=thresh,
    )
    want, want_counts = naive(
        rois, deltas, im_info, rotated, correct, bound_on, thresh, apply_scale
    )
    assert box.dtype == np.float32 and box.shape == deltas.shape
    np.testing.assert_allclose(box, want, rtol=1e-4, atol=1e-3)
    assert splits.dtype == np.float32 and splits.tolist() == want_counts


def test_four_columns_one_image_and_weights():
    rois = np.array([[0, 0, 9, 9]], np.float32)
    deltas = np.array([[1.0, 2.0, 0.0, 0.0]], np.float32)
    (box,) = run(
        [rois, deltas, np.array([[100, 100, 1]], np.float32)],
        weights=[10.0, 10.0, 5.0, 5.0],
    )
    np.testing.assert_allclose(box, [[1, 2, 11, 12]], rtol=1e-6)


def test_should_not_do_gradient():
    op = CreateOperator("BBoxTransform", ["r", "d", "i"], ["b"])
    with pytest.raises(Caffe2LiteError):
        GradientRegistry.GetBackwardPass([op], {"b": "b_grad"})


def test_errors():
    op = CreateOperator("BBoxTransform", ["rois", "deltas", "im_info"], ["box_out"])
    info = np.array([[10, 10, 1]], np.float32)
    check_raises(
        op,
        [np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32), info],
        ShapeError,
        "roi_in.dim32",
    )
    check_raises(
        op,
        [np.zeros((2, 4), np.float32), np.zeros((3, 4), np.float32), info],
        ShapeError,
        r"delta_in.dim32\(0\) == N. 3 vs 2",
    )
    check_raises(
        op,
        [np.zeros((2, 4), np.float32), np.zeros((2, 6), np.float32), info],
        ShapeError,
        r"delta_in.dim32\(1\) % box_dim == 0",
    )
    check_raises(
        op,
        [np.array([[1, 0, 0, 1, 1]], np.float32), np.zeros((1, 4), np.float32), info],
        EnforceError,
        "roi_batch_id < batch_size. 1 vs 1",
    )
    check_raises(
        op,
        [
            np.zeros((1, 4), np.float32),
            np.zeros((1, 4), np.float32),
            np.ones((2, 3), np.float32),
        ],
        ShapeError,
        "batch_size == 1. 2 vs 1",
    )
