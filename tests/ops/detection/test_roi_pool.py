from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.testing import check_raises
from caffe2lite.workspace import Workspace

F = np.float32
FLT_MAX = float(np.finfo(F).max)


def c_round(v):
    return math.floor(abs(v) + 0.5) * (1 if v >= 0 else -1)


def naive(x, rois, ph, pw, scale):
    _n, c, h, w = x.shape
    y = np.zeros((len(rois), c, ph, pw), F)
    arg = np.full((len(rois), c, ph, pw), -1, np.int32)
    for r, roi in enumerate(rois):
        b = int(roi[0])
        sw, sh, ew, eh = (c_round(float(F(v) * F(scale))) for v in roi[1:])
        rh, rw = max(eh - sh + 1, 1), max(ew - sw + 1, 1)
        bh, bw = F(rh) / F(ph), F(rw) / F(pw)
        for ch in range(c):
            for i in range(ph):
                for j in range(pw):
                    h0 = min(max(math.floor(F(i) * bh) + sh, 0), h)
                    h1 = min(max(math.ceil(F(i + 1) * bh) + sh, 0), h)
                    w0 = min(max(math.floor(F(j) * bw) + sw, 0), w)
                    w1 = min(max(math.ceil(F(j + 1) * bw) + sw, 0), w)
                    if h1 <= h0 or w1 <= w0:
                        continue
                    best, where = -FLT_MAX, -1
                    for yy in range(h0, h1):
                        for xx in range(w0, w1):
                            if x[b, ch, yy, xx] > best:
                                best, where = x[b, ch, yy, xx], yy * w + xx
                    y[r, ch, i, j], arg[r, ch, i, j] = best, where
    return y, arg


def run(op_type, inputs, names, outs, **args):
    ws = Workspace()
    for k, v in zip(names, inputs):
        ws.feed_blob(k, v)
    ws.run(CreateOperator(op_type, names, outs, **args))
    return [ws.fetch_blob(o) for o in outs]


def random_rois(rng, r, n, size):
    xy = rng.uniform(-4, size + 4, (r, 2, 2))
    lo, hi = xy.min(1), xy.max(1)
    return np.concatenate([rng.integers(0, n, (r, 1)), lo, hi], 1).astype(F)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from([1, 2, 3]),
    st.sampled_from([1, 2, 4]),
    st.sampled_from([1.0, 0.5, 0.25]),
)
def test_matches_naive(seed, ph, pw, scale):
    rng = np.random.default_rng(seed)
    x = rng.integers(-5, 5, (2, 3, 5, 6)).astype(F)  # ties: the first maximum wins
    rois = random_rois(rng, 4, 2, 12)
    y, arg = run(
        "RoIPool",
        [x, rois],
        ["X", "rois"],
        ["Y", "argmaxes"],
        pooled_h=ph,
        pooled_w=pw,
        spatial_scale=scale,
    )
    wy, warg = naive(x, rois, ph, pw, scale)
    np.testing.assert_array_equal(y, wy)
    np.testing.assert_array_equal(arg, warg)
    assert arg.dtype == np.int32
    (y1,) = run(
        "RoIPool",
        [x, rois],
        ["X", "rois"],
        ["Y"],
        pooled_h=ph,
        pooled_w=pw,
        spatial_scale=scale,
        is_test=1,
    )
    np.testing.assert_array_equal(y1, wy)


def test_gradient_numerically():
    rng = np.random.default_rng(0)
    x = rng.permutation(2 * 2 * 4 * 5).astype(F).reshape(2, 2, 4, 5)  # no ties
    rois = random_rois(rng, 3, 2, 8)
    args = {"pooled_h": 2, "pooled_w": 2, "spatial_scale": 0.5}
    y, arg = run("RoIPool", [x, rois], ["X", "rois"], ["Y", "A"], **args)
    dy = rng.standard_normal(y.shape).astype(F)
    (dx,) = run(
        "RoIPoolGradient", [x, rois, arg, dy], ["X", "rois", "A", "dY"], ["dX"], **args
    )
    eps = F(0.25)
    for idx in np.ndindex(x.shape):
        xp = x.copy()
        xp[idx] += eps
        (yp,) = run("RoIPool", [xp, rois], ["X", "rois"], ["Y"], is_test=1, **args)
        num = float((dy * (yp - y)).sum()) / float(eps)
        assert abs(num - dx[idx]) < 1e-4, idx


def test_gradient_op_list():
    op = CreateOperator("RoIPool", ["X", "R"], ["Y", "A"], pooled_h=2)
    ops, _grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "RoIPoolGradient", ["X", "R", "A", "Y_grad"], ["X_grad"], pooled_h=2
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_empty_bins_and_rois():
    x = np.ones((1, 1, 3, 3), F)
    y, arg = run(
        "RoIPool",
        [x, np.array([[0, 10, 10, 12, 12]], F)],
        ["X", "rois"],
        ["Y", "A"],
        pooled_h=2,
        pooled_w=2,
    )
    assert y.tolist() == [[[[0, 0], [0, 0]]]] and arg.tolist() == [
        [[[-1, -1], [-1, -1]]]
    ]
    y, arg = run(
        "RoIPool", [x, np.zeros((0, 5), F)], ["X", "rois"], ["Y", "A"], pooled_h=2
    )
    assert y.shape == (0, 1, 2, 1)


def test_errors():
    x = np.zeros((1, 1, 3, 3), F)
    op = CreateOperator("RoIPool", ["X", "rois"], ["Y", "A"])
    check_raises(op, [x, np.zeros((1, 4), F)], ShapeError, r"R.dim32\(1\) == 5")
    check_raises(
        op,
        [x, np.array([[1, 0, 0, 1, 1]], F)],
        EnforceError,
        "roi_batch_id < batch_size. 1 vs 1",
    )
    check_raises(
        CreateOperator("RoIPool", ["X", "rois"], ["Y"]),
        [x, np.zeros((1, 5), F)],
        EnforceError,
        "argmaxes output",
    )
    check_raises(
        CreateOperator("RoIPool", ["X", "rois"], ["Y"], order="NHWC", is_test=1),
        [x, np.zeros((1, 5), F)],
        ArgumentError,
        "only NCHW",
    )
