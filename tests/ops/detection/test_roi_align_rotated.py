from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

F = np.float32


def run(op_type, inputs, names, out="Y", **args):
    ws = Workspace()
    for k, v in zip(names, inputs):
        ws.feed_blob(k, v)
    ws.run(CreateOperator(op_type, names, [out], **args))
    return ws.fetch_blob(out)


def naive(x, rois, scale, ph, pw, ratio):
    """One output at a time; the rotation and the bilinear sample in float64."""
    c = x.shape[1]
    out = np.zeros((len(rois), c, ph, pw))
    for r, roi in enumerate(rois):
        b = int(roi[0])
        cx, cy, rw, rh = (float(v) * scale for v in roi[1:5])
        rw, rh = max(rw, 1.0), max(rh, 1.0)
        t = math.radians(float(roi[5]))
        gh = ratio if ratio > 0 else math.ceil(rh / ph)
        gw = ratio if ratio > 0 else math.ceil(rw / pw)
        for i in range(ph):
            for j in range(pw):
                total = np.zeros(c)
                for iy in range(gh):
                    yy = -rh / 2 + i * rh / ph + (iy + 0.5) * rh / ph / gh
                    for ix in range(gw):
                        xx = -rw / 2 + j * rw / pw + (ix + 0.5) * rw / pw / gw
                        px = xx * math.cos(t) + yy * math.sin(t) + cx
                        py = yy * math.cos(t) - xx * math.sin(t) + cy
                        total += bilinear(x[b], py, px)
                out[r, :, i, j] = total / (gh * gw)
    return out


def bilinear(img, y, x):
    c, h, w = img.shape
    if y < -1 or y > h or x < -1 or x > w:
        return np.zeros(c)
    y, x = min(max(y, 0.0), h - 1), min(max(x, 0.0), w - 1)
    y0, x0 = int(y), int(x)
    y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
    fy, fx = y - y0, x - x0
    return (
        (1 - fy) * (1 - fx) * img[:, y0, x0]
        + (1 - fy) * fx * img[:, y0, x1]
        + fy * (1 - fx) * img[:, y1, x0]
        + fy * fx * img[:, y1, x1]
    )


def random_rois(rng, r, n, size, angles=True):
    ctr = rng.uniform(0, size, (r, 2))
    wh = rng.uniform(0.5, size / 2, (r, 2))
    ang = rng.uniform(-180, 180, (r, 1)) if angles else np.zeros((r, 1))
    return np.concatenate([rng.integers(0, n, (r, 1)), ctr, wh, ang], 1).astype(F)


@settings(max_examples=20, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2]),
    st.sampled_from([-1, 1, 2]),
    st.sampled_from([1.0, 0.5]),
)
def test_matches_naive(seed, ph, pw, ratio, scale):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 6, 5)).astype(F)
    rois = random_rois(rng, 4, 2, 10)
    y = run(
        "RoIAlignRotated",
        [x, rois],
        ["X", "RoIs"],
        spatial_scale=scale,
        pooled_h=ph,
        pooled_w=pw,
        sampling_ratio=ratio,
    )
    np.testing.assert_allclose(
        y, naive(x, rois, scale, ph, pw, ratio), rtol=1e-4, atol=1e-4
    )
    y2 = run(
        "RoIAlignRotated",
        [np.ascontiguousarray(x.transpose(0, 2, 3, 1)), rois],
        ["X", "RoIs"],
        order="NHWC",
        spatial_scale=scale,
        pooled_h=ph,
        pooled_w=pw,
        sampling_ratio=ratio,
    )
    np.testing.assert_allclose(y2, y.transpose(0, 2, 3, 1), rtol=1e-6, atol=1e-6)


def test_angle_zero_is_roi_align():
    """Caffe2's roi_align_rotated_op_test: with angle 0 the op is RoIAlign of the
    same box given as corners."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 8, 8)).astype(F)
    rois = random_rois(rng, 6, 2, 8, angles=False)
    rois[:, 3:5] = np.maximum(
        rois[:, 3:5], 3
    )  # at least a pixel at scale 0.5: RoIAlign
    # forces small boxes to 1x1 from their corner, the rotated op round their centre
    corners = np.stack(
        [
            rois[:, 0],
            rois[:, 1] - rois[:, 3] / 2,
            rois[:, 2] - rois[:, 4] / 2,
            rois[:, 1] + rois[:, 3] / 2,
            rois[:, 2] + rois[:, 4] / 2,
        ],
        1,
    )
    for aligned in (False, True):
        args = {
            "pooled_h": 2,
            "pooled_w": 3,
            "sampling_ratio": 2,
            "spatial_scale": 0.5,
            "aligned": aligned,
        }
        a = run("RoIAlignRotated", [x, rois], ["X", "RoIs"], **args)
        b = run("RoIAlign", [x, corners.astype(F)], ["X", "RoIs"], **args)
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_gradient_is_the_adjoint():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 4)).astype(F)
    rois = random_rois(rng, 5, 2, 6)
    args = {"pooled_h": 2, "pooled_w": 2, "spatial_scale": 1.0, "sampling_ratio": -1}
    y = run("RoIAlignRotated", [x, rois], ["X", "RoIs"], **args)
    dy = rng.standard_normal(y.shape).astype(F)
    dx = run(
        "RoIAlignRotatedGradient", [x, rois, dy], ["X", "RoIs", "dY"], out="dX", **args
    )
    np.testing.assert_allclose(float((dy * y).sum()), float((dx * x).sum()), rtol=1e-4)
    op = CreateOperator("RoIAlignRotated", ["X", "R"], ["Y"], pooled_h=2)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "RoIAlignRotatedGradient", ["X", "R", "Y_grad"], ["X_grad"], pooled_h=2
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_errors_and_empty():
    x = np.zeros((1, 1, 4, 4), F)
    assert run(
        "RoIAlignRotated", [x, np.zeros((0, 6), F)], ["X", "RoIs"], pooled_h=2
    ).shape == (0, 1, 2, 1)
    op = CreateOperator("RoIAlignRotated", ["X", "RoIs"], ["Y"])
    check_raises(op, [x, np.zeros((2, 4), F)], ShapeError, r"R.dim32\(1\) == 5")
    g = CreateOperator(
        "RoIAlignRotatedGradient", ["X", "RoIs", "dY"], ["dX"], order="NHWC"
    )
    check_raises(
        g,
        [x, np.zeros((1, 6), F), np.zeros((1, 1, 1, 1), F)],
        ArgumentError,
        "only NCHW",
    )
