"""RoIAlign (Mask R-CNN's region feature pooling by bilinear sampling) and its gradient
op RoIAlignGradient (Caffe2 roi_align_op.cc, roi_align_gradient_op.cc)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_that, float_tensor
from ._roi import (
    POOLED_SIZE_ARGS,
    align_weights,
    batch_indices,
    check_image,
    check_rois,
    check_work,
)

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
    Arg(
        "spatial_scale",
        float,
        1.0,
        doc="scale of X relative to the image the RoIs are given in (e.g. 1/16)",
    ),
    *POOLED_SIZE_ARGS,
    Arg(
        "sampling_ratio",
        int,
        -1,
        doc="samples per bin side; <= 0: ceil(roi size / pooled size)",
    ),
    Arg(
        "aligned",
        bool,
        False,
        doc="shift the RoIs by -0.5 pixel and do not force small RoIs to 1x1",
    ),
]


def _shape(
    x: TensorShape,
    rois: TensorShape,
    *,
    order: str,
    pooled_h: int,
    pooled_w: int,
    **kwargs,
) -> tuple[TensorShape]:
    f32 = np.dtype(np.float32)
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, f32),)
    r = rois.dims[0] if rois.dims is not None and len(rois.dims) == 2 else "R"
    if order == "NCHW":
        return (TensorShape((r, x.dims[1], pooled_h, pooled_w), f32),)
    return (TensorShape((r, pooled_h, pooled_w, x.dims[3]), f32),)


def _nchw(x: np.ndarray, order: str) -> np.ndarray:
    return x if order == "NCHW" else np.moveaxis(x, 3, 1)


BLOCK = 1 << 23  # elements of the largest intermediate array of one block of RoIs


def _blocks(r: int, per_roi: int) -> list[slice]:
    """RoIs in blocks whose intermediates stay under BLOCK elements: the work space is
    bounded for any number of RoIs (each block is a few batched matrix products)."""
    size = max(1, BLOCK // max(per_roi, 1))
    return [slice(i, min(i + size, r)) for i in range(0, r, size)]


def roi_align_forward(x, rois, kw) -> np.ndarray:
    check_image(x)
    order, ph, pw = kw["order"], kw["pooled_h"], kw["pooled_w"]
    xc = _nchw(x, order)
    n, c, h, w = xc.shape
    if rois.size == 0:
        shape = (0, c, ph, pw) if order == "NCHW" else (0, ph, pw, c)
        return np.zeros(shape, np.float32)
    check_rois(rois)
    b = batch_indices(rois, n)
    check_work(len(rois) * c * ph * pw, "RoIAlign")  # the output itself
    wy, wx, count = align_weights(
        rois, kw["spatial_scale"], ph, pw, kw["sampling_ratio"], h, w, kw["aligned"]
    )
    x64 = xc.astype(np.float64)
    y = np.empty((len(rois), c, ph, pw), np.float32)
    per_roi = c * ph * w + (c * h * w if n > 1 else 0)
    for blk in _blocks(len(rois), per_roi):
        img = x64[None] if n == 1 else x64[b[blk]]  # (1 or r, C, H, W)
        rows = np.matmul(wy[blk, None], img)  # (r, C, ph, W)
        out = np.matmul(rows, np.swapaxes(wx[blk], 1, 2)[:, None])  # (r, C, ph, pw)
        y[blk] = out / count[blk, None, None, None]
    return y if order == "NCHW" else np.ascontiguousarray(np.moveaxis(y, 1, 3))


@register_cpu_operator(
    "RoIAlign",
    inputs=["X", "RoIs"],
    outputs=["Y"],
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "X": np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4),
            "RoIs": np.array([[0, 0, 0, 2, 2], [0, 1, 1, 3, 3]], np.float32),
        },
        {
            "Y": np.array(
                [[[[2.5, 3.5], [6.5, 7.5]]], [[[7.5, 8.5], [11.5, 12.5]]]], np.float32
            )
        },
        {"pooled_h": 2, "pooled_w": 2, "sampling_ratio": 1},
    ),
    doc="""Region of Interest (RoI) align as in Mask R-CNN. X is a float32 feature map
(N, C, H, W) (or (N, H, W, C) with order "NHWC"); RoIs is (R, 5) rows [batch index,
x1, y1, x2, y2] (or (R, 4) without the index, all in image 0) in image coordinates,
scaled by spatial_scale. Each RoI (forced to at least 1x1 unless `aligned`, which also
shifts it by -0.5) is split into pooled_h x pooled_w bins; each bin averages
sampling_ratio^2 bilinear samples (ceil(roi size / pooled size) per side when
sampling_ratio <= 0) placed at the centres of a regular grid. Samples more than one
pixel outside X count as 0; samples in the last pixel row or column clamp to it.
Y is (R, C, pooled_h, pooled_w) float32 (or (R, pooled_h, pooled_w, C)); empty RoIs give
an empty Y. Caffe2 read outside X for a batch index outside [0, N); here that is an
error.

Example: X=[[[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]]],
RoIs=[[0, 0, 0, 2, 2], [0, 1, 1, 3, 3]] with pooled_h=2, pooled_w=2, sampling_ratio=1
-> Y=[[[[2.5, 3.5], [6.5, 7.5]]], [[[7.5, 8.5], [11.5, 12.5]]]]""",
)
def roi_align(x, rois, **kw) -> tuple:
    float_tensor(rois, "RoIs", np.dtype(np.float32))
    return (roi_align_forward(x, rois, kw),)


@register_gradient("RoIAlign")
def roi_align_gradient_maker(g):
    """``RoIAlignGradient([X, RoIs, dY]) -> [dX]``."""
    return [g.op_def("RoIAlignGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0)])]


def _grad_shape(x: TensorShape, rois: TensorShape, dy: TensorShape, **kwargs):
    return (TensorShape(x.dims, np.dtype(np.float32)),)


@register_cpu_operator(
    "RoIAlignGradient",
    inputs=["X", "RoIs", "dY"],
    outputs=["dX"],
    args=ARGS,
    shape=_grad_shape,
    example=Example(
        {
            "X": np.zeros((1, 1, 3, 3), np.float32),
            "RoIs": np.array([[0, 0, 0, 2, 2]], np.float32),
            "dY": np.array([[[[4.0]]]], np.float32),
        },
        {"dX": np.array([[[[0, 0, 0], [0, 4, 0], [0, 0, 0]]]], np.float32)},
        {"sampling_ratio": 1},
    ),
    doc="""Gradient of RoIAlign with respect to X: each dY value is spread over the
pixels its bin's bilinear samples read, with the samples' weights divided by the
number of samples (a zero dX where no sample reads). NCHW only: Caffe2's CPU kernel
read every layout as NCHW; here order "NHWC" is refused.

Example: X of shape (1, 1, 3, 3), RoIs=[[0, 0, 0, 2, 2]], dY=[[[[4]]]] with
sampling_ratio=1 -> dX=[[[[0, 0, 0], [0, 4, 0], [0, 0, 0]]]] (the one sample sits at
(1, 1))""",
)
def roi_align_gradient(x, rois, dy, **kw) -> tuple:
    check_image(x)
    if kw["order"] != "NCHW":
        raise ArgumentError(
            "RoIAlignGradient supports only NCHW order",
            arg="order",
            expected='"NCHW"',
            found=kw["order"],
        )
    float_tensor(rois, "RoIs", np.dtype(np.float32))
    float_tensor(dy, "dY", np.dtype(np.float32))
    check_rois(rois)
    n, c, h, w = x.shape
    ph, pw = kw["pooled_h"], kw["pooled_w"]
    enforce_that(
        dy.shape == (rois.shape[0], c, ph, pw),
        "dY.sizes() == Y.sizes()",
        blob="dY",
        expected=dims((rois.shape[0], c, ph, pw)),
        found=dims(dy.shape),
    )
    if dy.size == 0:
        return (np.zeros_like(x),)
    b = batch_indices(rois, n)
    wy, wx, count = align_weights(
        rois, kw["spatial_scale"], ph, pw, kw["sampling_ratio"], h, w, kw["aligned"]
    )
    dx = np.zeros((n, c, h, w), np.float64)
    g = dy.astype(np.float64) / count[:, None, None, None]
    for blk in _blocks(len(rois), c * ph * w + c * h * w):
        rows = np.matmul(g[blk], wx[blk, None])  # (r, C, ph, W)
        full = np.matmul(np.swapaxes(wy[blk], 1, 2)[:, None], rows)  # (r, C, H, W)
        np.add.at(dx, b[blk], full)
    return (dx.astype(np.float32),)


gradient_not_implemented_yet("RoIAlignGradient")
