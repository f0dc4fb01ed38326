from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

F = np.float32


def naive(x, rois, scale, ph, pw, ratio, aligned=False):
    """Caffe2's loops, one output element at a time, in float32."""
    _n, c, _h, _w = x.shape
    out = np.zeros((len(rois), c, ph, pw), np.float32)
    for r, roi in enumerate(rois):
        b = int(roi[0]) if len(roi) == 5 else 0
        x1, y1, x2, y2 = (F(v) for v in roi[-4:])
        off = F(0.5) if aligned else F(0)
        sw, sh, ew, eh = (
            x1 * F(scale) - off,
            y1 * F(scale) - off,
            x2 * F(scale) - off,
            y2 * F(scale) - off,
        )
        rw, rh = ew - sw, eh - sh
        if not aligned:
            rw, rh = max(rw, F(1)), max(rh, F(1))
        bh, bw = F(rh / F(ph)), F(rw / F(pw))
        gh = ratio if ratio > 0 else math.ceil(F(rh / F(ph)))
        gw = ratio if ratio > 0 else math.ceil(F(rw / F(pw)))
        count = max(gh * gw, 1)
        for ch in range(c):
            for i in range(ph):
                for j in range(pw):
                    acc = 0.0
                    for iy in range(gh):
                        yy = F(F(sh + F(i) * bh) + F(F(F(iy + 0.5) * bh) / F(gh)))
                        for ix in range(gw):
                            xx = F(F(sw + F(j) * bw) + F(F(F(ix + 0.5) * bw) / F(gw)))
                            acc += bilinear(x[b, ch], yy, xx)
                    out[r, ch, i, j] = acc / count
    return out


def bilinear(img, y, x):
    h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return 0.0
    y, x = max(y, F(0)), max(x, F(0))
    yl, xl = int(y), int(x)
    if yl >= h - 1:
        yl = yh = h - 1
        y = F(yl)
    else:
        yh = yl + 1
    if xl >= w - 1:
        xl = xh = w - 1
        x = F(xl)
    else:
        xh = xl + 1
    ly, lx = float(y - yl), float(x - xl)
    hy, hx = 1 - ly, 1 - lx
    return (
        hy * hx * img[yl, xl]
        + hy * lx * img[yl, xh]
        + ly * hx * img[yh, xl]
        + ly * lx * img[yh, xh]
    )


def run(op_type, inputs, names, out="Y", **args):
    ws = Workspace()
    for k, v in zip(names, inputs):
        ws.feed_blob(k, v)
    ws.run(CreateOperator(op_type, names, [out], **args))
    return ws.fetch_blob(out)


def random_rois(rng, r, n, size):
    xy = rng.uniform(-2, size + 2, (r, 2, 2))
    lo, hi = xy.min(axis=1), xy.max(axis=1)
    b = rng.integers(0, n, (r, 1))
    return np.concatenate([b, lo[:, :1], lo[:, 1:], hi[:, :1], hi[:, 1:]], 1).astype(F)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2]),
    st.sampled_from([-1, 0, 1, 2]),
    st.sampled_from([1.0, 0.5, 0.25]),
    st.booleans(),
)
def test_matches_naive(seed, ph, pw, ratio, scale, aligned):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, 5, 6)).astype(F)
    rois = random_rois(rng, 4, 2, 10)
    y = run(
        "RoIAlign",
        [x, rois],
        ["X", "RoIs"],
        spatial_scale=scale,
        pooled_h=ph,
        pooled_w=pw,
        sampling_ratio=ratio,
        aligned=aligned,
    )
    np.testing.assert_allclose(
        y, naive(x, rois, scale, ph, pw, ratio, aligned), rtol=1e-5, atol=1e-5
    )
    # NHWC gives the same numbers, channels last
    y2 = run(
        "RoIAlign",
        [np.ascontiguousarray(x.transpose(0, 2, 3, 1)), rois],
        ["X", "RoIs"],
        order="NHWC",
        spatial_scale=scale,
        pooled_h=ph,
        pooled_w=pw,
        sampling_ratio=ratio,
        aligned=aligned,
    )
    np.testing.assert_allclose(y2, y.transpose(0, 2, 3, 1), rtol=1e-6, atol=1e-6)


def test_four_column_rois_and_empty():
    x = np.arange(16, dtype=F).reshape(1, 1, 4, 4)
    r5 = np.array([[0, 0.5, 0.5, 3, 2.5]], F)
    y4 = run("RoIAlign", [x, r5[:, 1:]], ["X", "RoIs"], pooled_h=2, pooled_w=2)
    y5 = run("RoIAlign", [x, r5], ["X", "RoIs"], pooled_h=2, pooled_w=2)
    np.testing.assert_array_equal(y4, y5)
    assert run(
        "RoIAlign", [x, np.zeros((0, 5), F)], ["X", "RoIs"], pooled_h=3, pooled_w=2
    ).shape == (0, 1, 3, 2)
    assert run(
        "RoIAlign",
        [x.transpose(0, 2, 3, 1).copy(), np.zeros((0, 5), F)],
        ["X", "RoIs"],
        order="NHWC",
        pooled_h=3,
    ).shape == (0, 3, 1, 1)


def test_gradient_is_the_adjoint():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 4)).astype(F)
    rois = random_rois(rng, 5, 2, 8)
    args = {"pooled_h": 2, "pooled_w": 3, "spatial_scale": 0.5, "sampling_ratio": -1}
    y = run("RoIAlign", [x, rois], ["X", "RoIs"], **args)
    dy = rng.standard_normal(y.shape).astype(F)
    dx = run("RoIAlignGradient", [x, rois, dy], ["X", "RoIs", "dY"], out="dX", **args)
    assert dx.shape == x.shape and dx.dtype == F
    # numeric: the op is linear in X, so <dY, Y(X)> = <dX, X> for every X
    np.testing.assert_allclose(float((dy * y).sum()), float((dx * x).sum()), rtol=1e-4)
    e = np.zeros_like(x)
    e[1, 0, 2, 3] = 1
    ye = run("RoIAlign", [e, rois], ["X", "RoIs"], **args)
    np.testing.assert_allclose(
        float((dy * ye).sum()), dx[1, 0, 2, 3], rtol=1e-4, atol=1e-6
    )


def test_gradient_op_list():
    op = CreateOperator("RoIAlign", ["X", "R"], ["Y"], pooled_h=2)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "RoIAlignGradient", ["X", "R", "Y_grad"], ["X_grad"], pooled_h=2
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad" and grads.get("R") is None


def test_errors():
    x = np.zeros((1, 1, 4, 4), F)
    op = CreateOperator("RoIAlign", ["X", "RoIs"], ["Y"])
    check_raises(
        op,
        [x, np.zeros((2, 3), F)],
        ShapeError,
        r"R.dim32\(1\) == 4 \|\| R.dim32\(1\) == 5",
    )
    check_raises(op, [x, np.zeros((2, 5, 1), F)], ShapeError, r"R.dim\(\) == 2")
    check_raises(
        op,
        [x, np.array([[1, 0, 0, 1, 1]], F)],
        EnforceError,
        r"batch index 1.0 outside \[0, 1\)",
    )
    check_raises(op, [x.astype(np.float64), np.zeros((1, 5), F)], DTypeError, "")
    check_raises(op, [np.zeros((4, 4), F), np.zeros((1, 5), F)], ShapeError, "4-D")
    g = CreateOperator("RoIAlignGradient", ["X", "RoIs", "dY"], ["dX"], order="NHWC")
    check_raises(
        g,
        [x, np.zeros((1, 5), F), np.zeros((1, 1, 1, 1), F)],
        ArgumentError,
        "only NCHW",
    )
    g = CreateOperator("RoIAlignGradient", ["X", "RoIs", "dY"], ["dX"])
    check_raises(
        g, [x, np.zeros((1, 5), F), np.zeros((2, 1, 1, 1), F)], ShapeError, "dY.sizes"
    )


@pytest.mark.parametrize("ratio", [0, 2])
def test_detectron_style_sizes(ratio):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 4, 12, 12)).astype(F)
    rois = random_rois(rng, 6, 1, 190)
    y = run(
        "RoIAlign",
        [x, rois],
        ["X", "RoIs"],
        spatial_scale=1 / 16,
        pooled_h=7,
        pooled_w=7,
        sampling_ratio=ratio,
    )
    np.testing.assert_allclose(
        y, naive(x, rois, 1 / 16, 7, 7, ratio), rtol=1e-5, atol=1e-5
    )
