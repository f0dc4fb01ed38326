"""RoIPool (Fast R-CNN's max pooling over region bins) and RoIPoolGradient (Caffe2
roi_pool_op.cc)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, DTypeError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, enforce_that, float_tensor
from ._roi import POOLED_SIZE_ARGS, check_image, check_work

FLT_MAX = np.float32(np.finfo(np.float32).max)

ARGS = [
    Arg("is_test", int, 0, doc="1: no argmaxes output"),
    Arg(
        "order",
        str,
        "NCHW",
        doc='only "NCHW"',
        check=lambda v: v in ("NCHW", "NHWC"),
        check_message="Unknown storage order",
        expected='"NCHW"',
    ),
    *POOLED_SIZE_ARGS,
    Arg("spatial_scale", float, 1.0, doc="scale from RoI to feature coordinates"),
]


def _shape(
    x: TensorShape,
    rois: TensorShape,
    *,
    pooled_h: int,
    pooled_w: int,
    num_outputs: int,
    **kwargs,
):
    r = rois.dims[0] if rois.dims is not None and len(rois.dims) == 2 else "R"
    c = x.dims[1] if x.dims is not None and len(x.dims) == 4 else "C"
    y = TensorShape((r, c, pooled_h, pooled_w), np.dtype(np.float32))
    return (y, y.with_dtype(np.dtype(np.int32)))[:num_outputs]


def _c_round(x: np.ndarray) -> np.ndarray:
    """C's round: halves away from zero."""
    return (np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))).astype(np.int64)


def _bins(start: np.ndarray, length: np.ndarray, pooled: int, size: int) -> np.ndarray:
    """(R, pooled, size) mask of the input rows/columns inside each bin."""
    f = np.float32
    bin_size = length.astype(f) / f(pooled)
    p = np.arange(pooled, dtype=f)
    lo = np.floor(p[None, :] * bin_size[:, None]).astype(np.int64) + start[:, None]
    hi = (
        np.ceil((p[None, :] + f(1)) * bin_size[:, None]).astype(np.int64)
        + start[:, None]
    )
    lo, hi = np.clip(lo, 0, size), np.clip(hi, 0, size)
    axis = np.arange(size)
    return (axis >= lo[..., None]) & (axis < hi[..., None])


def roi_pool_forward(
    x: np.ndarray, rois: np.ndarray, pooled_h: int, pooled_w: int, spatial_scale: float
):
    n, c, h, w = x.shape
    enforce_cmp(
        rois.ndim == 2 and rois.shape[1] == 5,
        "R.dim32(1) == 5",
        rois.shape[-1] if rois.ndim else 0,
        5,
        blob="rois",
    )
    r = rois.shape[0]
    b = rois[:, 0].astype(np.int64) if r else np.zeros(0, np.int64)
    if r and (b.min() < 0 or b.max() >= n):
        bad = int(b.min() if b.min() < 0 else b.max())
        expr = "roi_batch_id >= 0" if bad < 0 else "roi_batch_id < batch_size"
        raise EnforceError(
            f"{expr}. {bad} vs {0 if bad < 0 else n}",
            blob="rois",
            expected=f"batch ids in [0, {n})",
            found=bad,
        )
    check_work(r * c * h * w * max(pooled_w, 1), "RoIPool")
    scaled = rois[:, 1:].astype(np.float32) * np.float32(spatial_scale)
    sw, sh, ew, eh = (_c_round(scaled[:, k]) for k in range(4))
    roi_h = np.maximum(eh - sh + 1, 1)
    roi_w = np.maximum(ew - sw + 1, 1)
    mh = _bins(sh, roi_h, pooled_h, h)  # (R, ph, H)
    mw = _bins(sw, roi_w, pooled_w, w)  # (R, pw, W)
    if h == 0 or w == 0 or r == 0:
        return (
            np.zeros((r, c, pooled_h, pooled_w), np.float32),
            np.full((r, c, pooled_h, pooled_w), -1, np.int32),
        )
    xb = x[b]  # (R, C, H, W)
    xb = np.where(np.isnan(xb), -np.inf, xb)  # C's > never picks a NaN
    # stage 1: over the columns of each column bin -> (R, C, H, pw)
    cols = np.where(mw[:, None, None, :, :], xb[:, :, :, None, :], -np.inf)
    m1, a1 = cols.max(axis=-1), cols.argmax(axis=-1)
    # stage 2: over the rows of each row bin -> (R, C, ph, pw); the first maximum in
    # row-major order is the first row holding it, at that row's first column
    rows = np.where(mh[:, None, :, :, None], m1[:, :, None, :, :], -np.inf)
    y, ah = rows.max(axis=3), rows.argmax(axis=3)
    aw = np.take_along_axis(a1, ah, axis=2)
    empty = ~(mh.any(-1)[:, :, None] & mw.any(-1)[:, None, :])  # (R, ph, pw)
    found = y > -FLT_MAX
    argmax = np.where(found, ah * w + aw, -1).astype(np.int32)
    y = np.where(found, y, -FLT_MAX)
    y = np.where(empty[:, None], 0, y).astype(np.float32)
    argmax = np.where(empty[:, None], -1, argmax).astype(np.int32)
    return y, argmax


@register_cpu_operator(
    "RoIPool",
    inputs=["X", "rois"],
    outputs=["Y", "argmaxes"],
    num_outputs=(1, 2),
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "X": np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4),
            "rois": np.array([[0, 0, 0, 3, 3]], np.float32),
        },
        {
            "Y": np.array([[[[5, 7], [13, 15]]]], np.float32),
            "argmaxes": np.array([[[[5, 7], [13, 15]]]], np.int32),
        },
        {"pooled_h": 2, "pooled_w": 2},
    ),
    doc="""RoI max pooling for Fast R-CNN. X is a float32 (N, C, H, W) feature map (NCHW
only) and rois (R, 5) rows [batch index, x1, y1, x2, y2] in image coordinates. Each RoI
is scaled by spatial_scale and rounded (halves away from zero) to feature pixels,
forced to at least 1x1, and split into pooled_h x pooled_w bins (bin p covers
[floor(p * size / pooled), ceil((p + 1) * size / pooled)) offset by the RoI's start,
clipped to X); each output is its bin's maximum, 0 for an empty bin. Unless is_test,
argmaxes (int32, Y's shape) holds the flat index h * W + w of each maximum (the first
in row-major order; -1 for an empty bin). The batch index must lie in [0, N).

Example: X=[[[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]]],
rois=[[0, 0, 0, 3, 3]] with pooled_h=2, pooled_w=2 -> Y=[[[[5, 7], [13, 15]]]],
argmaxes=[[[[5, 7], [13, 15]]]]""",
)
def roi_pool(
    x,
    rois,
    *,
    is_test: int,
    order: str,
    pooled_h: int,
    pooled_w: int,
    spatial_scale: float,
    num_outputs: int,
) -> tuple:
    check_image(x)
    float_tensor(rois, "rois", np.dtype(np.float32))
    if order != "NCHW":
        raise ArgumentError(
            "RoIPool supports only NCHW order",
            arg="order",
            expected='"NCHW"',
            found=order,
        )
    if not is_test and num_outputs < 2:
        raise EnforceError(
            "RoIPool needs an argmaxes output unless is_test is set",
            expected="2 outputs",
            found=num_outputs,
        )
    y, argmax = roi_pool_forward(x, rois, pooled_h, pooled_w, spatial_scale)
    return (y, argmax) if num_outputs > 1 else (y,)


@register_gradient("RoIPool")
def roi_pool_gradient_maker(g):
    """``RoIPoolGradient([X, rois, argmaxes, dY]) -> [dX]``."""
    return [g.op_def("RoIPoolGradient", [g.I(0), g.I(1), g.O(1), g.GO(0)], [g.GI(0)])]


def _grad_shape(
    x: TensorShape, rois: TensorShape, argmax: TensorShape, dy: TensorShape, **kwargs
):
    return (TensorShape(x.dims, np.dtype(np.float32)),)


@register_cpu_operator(
    "RoIPoolGradient",
    inputs=["X", "rois", "argmaxes", "dY"],
    outputs=["dX"],
    args=ARGS,
    shape=_grad_shape,
    example=Example(
        {
            "X": np.zeros((1, 1, 2, 2), np.float32),
            "rois": np.array([[0, 0, 0, 1, 1]], np.float32),
            "argmaxes": np.array([[[[3]]]], np.int32),
            "dY": np.array([[[[2.5]]]], np.float32),
        },
        {"dX": np.array([[[[0, 0], [0, 2.5]]]], np.float32)},
    ),
    doc="""Gradient of RoIPool: each dY value is added to the X position its argmax names
(nothing for -1). Caffe2 implemented this op only for CUDA (its CPU kernel raised "not
implemented"); the CPU kernel here computes what the CUDA kernel did.

Example: X of shape (1, 1, 2, 2), rois=[[0, 0, 0, 1, 1]], argmaxes=[[[[3]]]],
dY=[[[[2.5]]]] -> dX=[[[[0, 0], [0, 2.5]]]]""",
)
def roi_pool_gradient(x, rois, argmaxes, dy, **kw) -> tuple:
    check_image(x)
    float_tensor(rois, "rois", np.dtype(np.float32))
    float_tensor(dy, "dY", np.dtype(np.float32))
    if not isinstance(argmaxes, np.ndarray) or argmaxes.dtype != np.int32:
        raise DTypeError(
            "argmaxes must be an int32 tensor",
            blob="argmaxes",
            expected="int32",
            found=getattr(argmaxes, "dtype", None),
        )
    n, c, h, w = x.shape
    enforce_that(
        argmaxes.shape == dy.shape,
        "argmaxes.sizes() == dY.sizes()",
        blob="dY",
        expected=dims(argmaxes.shape),
        found=dims(dy.shape),
    )
    enforce_cmp(
        rois.ndim == 2 and rois.shape[1] == 5,
        "R.dim32(1) == 5",
        rois.shape[-1] if rois.ndim else 0,
        5,
        blob="rois",
    )
    r = rois.shape[0]
    enforce_that(
        dy.ndim == 4 and dy.shape[:2] == (r, c),
        "dY.dim(0) == R && dY.dim(1) == C",
        blob="dY",
        expected=f"({r}, {c}, ph, pw)",
        found=dims(dy.shape),
    )
    b = rois[:, 0].astype(np.int64)
    if r and (b.min() < 0 or b.max() >= n):
        raise EnforceError(
            "roi_batch_id < batch_size",
            blob="rois",
            expected=f"batch ids in [0, {n})",
            found=b.tolist(),
        )
    if argmaxes.size and (argmaxes.max() >= h * w or argmaxes.min() < -1):
        raise EnforceError(
            "argmaxes out of range",
            blob="argmaxes",
            expected=f"-1 .. {h * w - 1}",
            found=int(argmaxes.max()),
        )
    dx = np.zeros((n * c * h * w,), np.float32)
    use = argmaxes >= 0
    base = (b[:, None, None, None] * c + np.arange(c)[None, :, None, None]) * (h * w)
    np.add.at(dx, (base + argmaxes)[use], dy[use])
    return (dx.reshape(x.shape),)


gradient_not_implemented_yet("RoIPoolGradient")
