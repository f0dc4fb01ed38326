from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator
from caffe2lite.errors import Caffe2LiteError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.workspace import Workspace

from ._naive import check_raises_int8, f32, qmul, rdbpot, srdhm


def run(x, rois, **args):
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("R", rois)
    ws.run(CreateOperator("Int8RoIAlign", ["X", "R"], ["Y"], **args))
    return ws.fetch_blob("Y")


def naive(x, rois, scale, ph, pw, ratio, y_scale, y_zp):
    """Caffe2's loops, one bin and one sample at a time, in float32 scalars."""
    c = x.data.shape[3]
    out = np.zeros((len(rois), ph, pw, c), np.uint8)
    for r, roi in enumerate(rois):
        b = int(roi[0]) if len(roi) == 5 else 0
        x1, y1, x2, y2 = (f32(f32(v) * f32(scale)) for v in roi[-4:])
        rw, rh = max(f32(x2 - x1), f32(1)), max(f32(y2 - y1), f32(1))
        bh, bw = f32(rh / f32(ph)), f32(rw / f32(pw))
        gh = ratio if ratio > 0 else math.ceil(f32(rh / f32(ph)))
        gw = ratio if ratio > 0 else math.ceil(f32(rw / f32(pw)))
        m, s = qmul(f32(x.scale) / (f32(y_scale) * 255.0 * f32(gh * gw)))
        for i in range(ph):
            for j in range(pw):
                acc = [0] * c
                for iy in range(gh):
                    yy = f32(
                        f32(y1 + f32(i) * bh) + f32(f32(f32(iy + 0.5) * bh) / f32(gh))
                    )
                    for ix in range(gw):
                        xx = f32(
                            f32(x1 + f32(j) * bw)
                            + f32(f32(f32(ix + 0.5) * bw) / f32(gw))
                        )
                        for ch in range(c):
                            acc[ch] += (
                                sample(x.data[b, :, :, ch], yy, xx) - x.zero_point * 255
                            )
                for ch in range(c):
                    v = rdbpot(srdhm(acc[ch], m), s) + y_zp
                    out[r, i, j, ch] = min(255, max(0, v))
    return out


def sample(img, y, x):
    h, w = img.shape
    if y < -1.0 or y > h or x < -1.0 or x > w:
        return 0
    y, x = max(y, f32(0)), max(x, f32(0))
    yl, xl = int(y), int(x)
    if yl >= h - 1:
        yl = yh = h - 1
        y = f32(yl)
    else:
        yh = yl + 1
    if xl >= w - 1:
        xl = xh = w - 1
        x = f32(xl)
    else:
        xh = xl + 1
    ly, lx = f32(y - yl), f32(x - xl)
    hy, hx = f32(1 - ly), f32(1 - lx)
    ws_ = [
        round(f32(f32(a * b) * f32(255)))
        for a, b in ((hy, hx), (hy, lx), (ly, hx), (ly, lx))
    ]
    vals = [img[yl, xl], img[yl, xh], img[yh, xl], img[yh, xh]]
    return sum(wt * int(v) for wt, v in zip(ws_, vals))


def random_rois(rng, r, n, size):
    xy = rng.uniform(-2, size + 2, (r, 2, 2))
    lo, hi = xy.min(1), xy.max(1)
    return np.concatenate([rng.integers(0, n, (r, 1)), lo, hi], 1).astype(np.float32)


@settings(max_examples=15, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2]),
    st.sampled_from([1, 3]),
    st.sampled_from([-1, 1, 2]),
    st.sampled_from([1.0, 0.5]),
)
def test_matches_naive(seed, ph, pw, ratio, scale):
    rng = np.random.default_rng(seed)
    x = Int8Tensor(
        rng.integers(0, 256, (2, 5, 4, 2)).astype(np.uint8),
        0.1,
        int(rng.integers(0, 256)),
    )
    rois = random_rois(rng, 3, 2, 8)
    y = run(
        x,
        rois,
        spatial_scale=scale,
        pooled_h=ph,
        pooled_w=pw,
        sampling_ratio=ratio,
        Y_scale=0.2,
        Y_zero_point=50,
    )
    assert (y.scale, y.zero_point) == (np.float32(0.2), 50)
    np.testing.assert_array_equal(y.data, naive(x, rois, scale, ph, pw, ratio, 0.2, 50))


def test_close_to_float_roi_align():
    """Caffe2's int8_roi_align_op_test idea: against the float RoIAlign of the
    dequantised input, within a couple of output quanta."""
    rng = np.random.default_rng(1)
    x = Int8Tensor(rng.integers(0, 256, (1, 6, 6, 3)).astype(np.uint8), 0.05, 128)
    # inside the image: a sample outside reads a raw 0, which Caffe2's sum still offsets
    # by the zero point (the real value -zero_point * scale, not the float op's 0)
    xy = rng.uniform(0, 5, (4, 2, 2))
    rois = np.concatenate([np.zeros((4, 1)), xy.min(1), xy.max(1)], 1).astype(
        np.float32
    )
    y = run(
        x,
        rois,
        pooled_h=2,
        pooled_w=2,
        sampling_ratio=2,
        Y_scale=0.05,
        Y_zero_point=128,
    )
    ws = Workspace()
    ws.feed_blob("X", np.ascontiguousarray(x.dequantize()))
    ws.feed_blob("R", rois)
    ws.run(
        CreateOperator(
            "RoIAlign",
            ["X", "R"],
            ["Y"],
            order="NHWC",
            pooled_h=2,
            pooled_w=2,
            sampling_ratio=2,
        )
    )
    np.testing.assert_allclose(y.dequantize(), ws.fetch_blob("Y"), atol=2 * 0.05)


def test_empty_rois_and_errors():
    x = Int8Tensor(np.zeros((1, 3, 3, 2), np.uint8), 1.0, 0)
    assert run(x, np.zeros((0, 5), np.float32), pooled_h=2).data.shape == (0, 2, 1, 2)
    op = CreateOperator("Int8RoIAlign", ["X", "R"], ["Y"])
    check_raises_int8(
        op, [x, np.array([[3, 0, 0, 1, 1]], np.float32)], EnforceError, "batch index"
    )
    op = CreateOperator("Int8RoIAlign", ["X", "R"], ["Y"], Y_scale=1e-4)
    check_raises_int8(
        op,
        [x, np.array([[0, 0, 0, 1, 1]], np.float32)],
        EnforceError,
        "double_multiplier < 1",
    )
    with pytest.raises(Caffe2LiteError, match="order_ == StorageOrder::NHWC"):
        run(x, np.zeros((1, 5), np.float32), order="NCHW")
