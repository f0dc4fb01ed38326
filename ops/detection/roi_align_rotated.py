"""RoIAlignRotated (RoIAlign over rotated boxes [ctr_x, ctr_y, w, h, angle]) and its
gradient op RoIAlignRotatedGradient (Caffe2 roi_align_rotated_op.cc and
roi_align_rotated_gradient_op.cc)."""

from __future__ import annotations

import math

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, enforce_that, float_tensor
from ._roi import POOLED_SIZE_ARGS, batch_indices, check_image, check_work

F = np.float32
BLOCK = 1 << 22  # elements of the largest gathered array of one block of RoIs

ARGS = [
    Arg(
        "order",
        str,
        "NCHW",
        doc='"NCHW" or "NHWC"',
        check=lambda v: v in ("NCHW", "NHWC"),
        check_message="Unknown storage order",
        expected='"NCHW" or "NHWC"',
    ),
    Arg("spatial_scale", float, 1.0, doc="scale of X relative to the RoIs' image"),
    *POOLED_SIZE_ARGS,
    Arg("sampling_ratio", int, -1, doc="samples per bin side; <= 0: adaptive"),
    Arg(
        "aligned", bool, False, doc="shift the centres by -0.5 pixel, keep small sizes"
    ),
]


def _check_rois(rois) -> None:
    float_tensor(rois, "RoIs", np.dtype(np.float32))
    enforce_cmp(rois.ndim == 2, "R.dim() == 2", rois.ndim, 2, blob="RoIs")
    enforce_that(
        rois.shape[1] in (5, 6),
        "R.dim32(1) == 5 || R.dim32(1) == 6",
        blob="RoIs",
        expected="5 or 6 columns",
        found=rois.shape[1],
    )


def _samples(rois: np.ndarray, kw: dict, h: int, w: int):
    """Every bilinear sample of every bin: (R, ph, pw, G, G) corner indices, weights and
    the per-RoI sample count, in float32 as the kernel computes them."""
    ph, pw, ratio = kw["pooled_h"], kw["pooled_w"], kw["sampling_ratio"]
    box = rois[:, -5:].astype(F)
    scale = F(kw["spatial_scale"])
    off = F(0.5) if kw["aligned"] else F(0)
    cw, ch = box[:, 0] * scale - off, box[:, 1] * scale - off
    rw, rh = box[:, 2] * scale, box[:, 3] * scale
    theta = (box[:, 4].astype(np.float64) * math.pi / 180.0).astype(F)
    if kw["aligned"]:
        if ((rw < 0) | (rh < 0)).any():
            raise EnforceError(
                "roi_width >= 0 && roi_height >= 0. ROIs in ROIAlign do not "
                "have non-negative size!",
                blob="RoIs",
                expected="non-negative sizes",
                found="a negative size",
            )
    else:
        rw, rh = np.maximum(rw, F(1)), np.maximum(rh, F(1))
    bh, bw = rh / F(ph), rw / F(pw)
    gh = (
        np.full(len(rois), ratio) if ratio > 0 else np.ceil(rh / F(ph)).astype(np.int64)
    )
    gw = (
        np.full(len(rois), ratio) if ratio > 0 else np.ceil(rw / F(pw)).astype(np.int64)
    )
    g = max(int(gh.max()), int(gw.max()), 1)
    sh = (-rh.astype(np.float64) / 2.0).astype(F)
    sw = (-rw.astype(np.float64) / 2.0).astype(F)
    i = np.arange(g)
    with np.errstate(divide="ignore", invalid="ignore"):
        yy = (
            sh[:, None, None]
            + np.arange(ph, dtype=F)[None, :, None] * bh[:, None, None]
        ) + ((i.astype(F) + F(0.5))[None, None, :] * bh[:, None, None]) / gh[
            :, None, None
        ].astype(F)
        xx = (
            sw[:, None, None]
            + np.arange(pw, dtype=F)[None, :, None] * bw[:, None, None]
        ) + ((i.astype(F) + F(0.5))[None, None, :] * bw[:, None, None]) / gw[
            :, None, None
        ].astype(F)
    cos, sin = np.cos(theta), np.sin(theta)
    # (R, ph, pw, Gy, Gx)
    Y = yy[:, :, None, :, None].astype(F)
    X = xx[:, None, :, None, :].astype(F)
    c, s = cos[:, None, None, None, None], sin[:, None, None, None, None]
    x = (X * c + Y * s + cw[:, None, None, None, None]).astype(F)
    y = (Y * c - X * s + ch[:, None, None, None, None]).astype(F)
    used = (i[None, None, None, :, None] < gh[:, None, None, None, None]) & (
        i[None, None, None, None, :] < gw[:, None, None, None, None]
    )
    valid = used & ~((y < F(-1)) | (y > F(h)) | (x < F(-1)) | (x > F(w)))
    y, x = np.where(y <= 0, F(0), y), np.where(x <= 0, F(0), x)
    yl, xl = (
        np.where(valid, y, 0).astype(np.int64),
        np.where(valid, x, 0).astype(np.int64),
    )
    yend, xend = yl >= h - 1, xl >= w - 1
    yl, xl = np.where(yend, h - 1, yl), np.where(xend, w - 1, xl)
    yh, xh = np.where(yend, h - 1, yl + 1), np.where(xend, w - 1, xl + 1)
    y, x = np.where(yend, yl.astype(F), y), np.where(xend, xl.astype(F), x)
    ly, lx = (y - yl.astype(F)).astype(F), (x - xl.astype(F)).astype(F)
    hy, hx = (F(1) - ly).astype(F), (F(1) - lx).astype(F)
    weights = [np.where(valid, v, F(0)) for v in (hy * hx, hy * lx, ly * hx, ly * lx)]
    corners = [(yl, xl), (yl, xh), (yh, xl), (yh, xh)]
    count = np.maximum(gh * gw, 1).astype(np.float64)
    return corners, weights, count


def _shape(
    x: TensorShape,
    rois: TensorShape,
    *,
    order: str,
    pooled_h: int,
    pooled_w: int,
    **kwargs,
):
    f32 = np.dtype(np.float32)
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, f32),)
    r = rois.dims[0] if rois.dims is not None and len(rois.dims) == 2 else "R"
    if order == "NCHW":
        return (TensorShape((r, x.dims[1], pooled_h, pooled_w), f32),)
    return (TensorShape((r, pooled_h, pooled_w, x.dims[3]), f32),)


def _blocks(r: int, per_roi: int) -> list[slice]:
    size = max(1, BLOCK // max(per_roi, 1))
    return [slice(i, min(i + size, r)) for i in range(0, r, size)]


@register_cpu_operator(
    "RoIAlignRotated",
    inputs=["X", "RoIs"],
    outputs=["Y"],
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "X": np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4),
            "RoIs": np.array([[0, 1.5, 1.5, 2, 2, 90]], np.float32),
        },
        {"Y": np.array([[[[9, 5], [10, 6]]]], np.float32)},
        {"pooled_h": 2, "pooled_w": 2, "sampling_ratio": 1},
    ),
    doc="""RoIAlign over rotated RoIs: RoIs (R, 6) [batch index, ctr_x, ctr_y, w, h,
angle in degrees, counter-clockwise] (or (R, 5) without the index). Each RoI's
pooled_h x pooled_w bins are laid out in its own frame and the sample points rotated
into X (x = xx cos + yy sin + ctr_x, y = yy cos - xx sin + ctr_y); bilinear samples,
averaging, sampling_ratio, `aligned` and both orders as RoIAlign. Y is (R, C, pooled_h,
pooled_w) float32 (NHWC: (R, pooled_h, pooled_w, C)).

Example: X=[[[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]]],
RoIs=[[0, 1.5, 1.5, 2, 2, 90]] with pooled_h=2, pooled_w=2, sampling_ratio=1 ->
Y=[[[[9, 5], [10, 6]]]] (the 2x2 box around the centre, turned a quarter)""",
)
def roi_align_rotated(x, rois, **kw) -> tuple:
    check_image(x)
    order = kw["order"]
    xc = x if order == "NCHW" else np.moveaxis(x, 3, 1)
    n, c, h, w = xc.shape
    ph, pw = kw["pooled_h"], kw["pooled_w"]
    float_tensor(rois, "RoIs", np.dtype(np.float32))
    if rois.size == 0:
        return (
            np.zeros((0, c, ph, pw) if order == "NCHW" else (0, ph, pw, c), np.float32),
        )
    _check_rois(rois)
    b = batch_indices(rois, n) if rois.shape[1] == 6 else np.zeros(len(rois), np.int64)
    check_work(len(rois) * c * ph * pw, "RoIAlignRotated")
    corners, weights, count = _samples(rois, kw, h, w)
    xn = np.moveaxis(xc, 1, -1).astype(np.float64)  # (N, H, W, C)
    g2 = corners[0][0].shape[3] * corners[0][0].shape[4]
    y = np.empty((len(rois), ph, pw, c), np.float64)
    for blk in _blocks(len(rois), ph * pw * g2 * c):
        bb = b[blk][:, None, None, None, None]
        acc = 0.0
        for (yi, xi), wt in zip(corners, weights):  # the four bilinear corners
            acc = acc + (wt[blk][..., None] * xn[bb, yi[blk], xi[blk]]).sum(axis=(3, 4))
        y[blk] = acc / count[blk, None, None, None]
    y = y.astype(np.float32)
    return (np.ascontiguousarray(np.moveaxis(y, 3, 1)) if order == "NCHW" else y,)


@register_gradient("RoIAlignRotated")
def roi_align_rotated_gradient_maker(g):
    """``RoIAlignRotatedGradient([X, RoIs, dY]) -> [dX]``."""
    return [g.op_def("RoIAlignRotatedGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0)])]


def _grad_shape(x: TensorShape, rois: TensorShape, dy: TensorShape, **kwargs):
    return (TensorShape(x.dims, np.dtype(np.float32)),)


@register_cpu_operator(
    "RoIAlignRotatedGradient",
    inputs=["X", "RoIs", "dY"],
    outputs=["dX"],
    args=ARGS,
    shape=_grad_shape,
    example=Example(
        {
            "X": np.zeros((1, 1, 3, 3), np.float32),
            "RoIs": np.array([[0, 1, 1, 2, 2, 0]], np.float32),
            "dY": np.array([[[[4.0]]]], np.float32),
        },
        {"dX": np.array([[[[0, 0, 0], [0, 4, 0], [0, 0, 0]]]], np.float32)},
        {"sampling_ratio": 1},
    ),
    doc="""Gradient of RoIAlignRotated with respect to X: each dY value is spread over the
pixels its bin's bilinear samples read, with their weights divided by the number of
samples. NCHW only. Caffe2 registered this op for CUDA alone; the CPU kernel here
computes what that kernel did.

Example: X of shape (1, 1, 3, 3), RoIs=[[0, 1, 1, 2, 2, 0]], dY=[[[[4]]]] with
sampling_ratio=1 -> dX=[[[[0, 0, 0], [0, 4, 0], [0, 0, 0]]]]""",
)
def roi_align_rotated_gradient(x, rois, dy, **kw) -> tuple:
    check_image(x)
    if kw["order"] != "NCHW":
        raise ArgumentError(
            "RoIAlignRotatedGradient supports only NCHW order",
            arg="order",
            expected='"NCHW"',
            found=kw["order"],
        )
    _check_rois(rois)
    float_tensor(dy, "dY", np.dtype(np.float32))
    n, c, h, w = x.shape
    ph, pw = kw["pooled_h"], kw["pooled_w"]
    enforce_that(
        dy.shape == (rois.shape[0], c, ph, pw),
        "dY.sizes() == Y.sizes()",
        blob="dY",
        expected=dims((rois.shape[0], c, ph, pw)),
        found=dims(dy.shape),
    )
    dx = np.zeros((n, h, w, c), np.float64)
    if dy.size == 0:
        return (np.zeros_like(x),)
    b = batch_indices(rois, n) if rois.shape[1] == 6 else np.zeros(len(rois), np.int64)
    corners, weights, count = _samples(rois, kw, h, w)
    g = (
        np.moveaxis(dy, 1, -1).astype(np.float64) / count[:, None, None, None]
    )  # (R,ph,pw,C)
    g2 = corners[0][0].shape[3] * corners[0][0].shape[4]
    for blk in _blocks(len(rois), ph * pw * g2 * c):
        bb = np.broadcast_to(
            b[blk][:, None, None, None, None], corners[0][0][blk].shape
        )
        for (yi, xi), wt in zip(corners, weights):
            vals = wt[blk][..., None] * g[blk][:, :, :, None, None, :]
            np.add.at(dx, (bb, yi[blk], xi[blk]), vals)
    return (np.ascontiguousarray(np.moveaxis(dx, -1, 1)).astype(np.float32),)


gradient_not_implemented_yet("RoIAlignRotatedGradient")
