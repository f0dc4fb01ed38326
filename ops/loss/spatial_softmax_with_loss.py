"""SpatialSoftmaxWithLoss (a softmax over the channels of every pixel of an NCHW
tensor, then the (weighted) average cross entropy against per-pixel integer labels,
-1 meaning "don't care") and its gradient op SpatialSoftmaxWithLossGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import dims, enforce_cmp, enforce_that, float_tensor

_ARGS = [
    Arg("scale", float, 1.0, doc="scales the gradient (not the forward loss, as in Caffe2)",
        check=lambda s: s >= 0, check_message="scale_ >= 0", expected="scale >= 0"),
    Arg("order", str, "NCHW", doc="storage order; only NCHW is supported",
        check=lambda o: o in ("NCHW", "nchw"),
        check_message="Only NCHW order is supported right now.", expected="NCHW"),
]

DONT_CARE = -1


# SpatialSoftmaxWithLoss's message; SoftmaxWithLoss with ``spatial`` = 1 (its older
# form) said "...number of classes: " with a colon.
LABEL_MESSAGE = "Label seems incorrect:label value larger than number of classes"


def _check(x: np.ndarray, t: np.ndarray, w: np.ndarray | None,
           label_message: str = LABEL_MESSAGE) -> tuple:
    """(dtype, labels as int64 (N, H, W), weights as (N, H, W) or None, care mask)."""
    dtype = float_tensor(x, "logits")
    check_dtype(t, "labels", np.int32)
    enforce_cmp(x.ndim == 4, "X.dim() == 4", x.ndim, 4, blob="logits")
    enforce_cmp(t.ndim == 3, "T.dim() == 3", t.ndim, 3, blob="labels")
    n, d, h, wd = x.shape
    enforce_cmp(t.shape[0] == n, "T.dim32(0) == N", t.shape[0], n, blob="labels")
    # Caffe2 indexed the labels as N x H x W without checking the other two dimensions
    enforce_that(t.shape == (n, h, wd), "T.sizes() == (N, H, W)", blob="labels",
                 expected=dims((n, h, wd)), found=dims(t.shape))
    lab = t.astype(np.int64)
    care = lab != DONT_CARE
    bad = care & ((lab >= d) | (lab < 0))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise EnforceError(f"{label_message}{int(lab[where])} vs {d}", blob="labels",
                           expected=f"labels in [0, {d}) or -1",
                           found=f"{int(lab[where])} at {where}")
    weights = None
    if w is not None:
        float_tensor(w, "weight_tensor", dtype)
        enforce_cmp(w.size == n * h * wd, "weight_tensor.numel() == N * H * W", w.size,
                    n * h * wd, blob="weight_tensor")
        weights = w.reshape(n, h, wd)
    return dtype, lab, weights, care


def _picked(values: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """values[i, lab[i, y, x], y, x] for every pixel (labels clipped into range: the
    don't-care pixels are masked out by the caller)."""
    idx = np.clip(lab, 0, max(values.shape[1] - 1, 0))[:, None]
    return np.take_along_axis(values, idx, axis=1)[:, 0]


@register_cpu_operator(
    "SpatialSoftmaxWithLoss",
    inputs=["logits", "labels", "weight_tensor"],
    outputs=["softmax", "loss"],
    num_inputs=(2, 3),
    args=_ARGS,
    shape=lambda x, t, w=None, **kw: (x, TensorShape((), x.dtype)),
    example=Example(
        {"logits": np.array([[[[0, 1]], [[0, 1]]]], np.float32),
         "labels": np.array([[[0, -1]]], np.int32)},
        {"softmax": np.array([[[[0.5, 0.5]], [[0.5, 0.5]]]], np.float32),
         "loss": np.array(0.6931472, np.float32)}),
    doc="""Per-pixel softmax cross entropy on NCHW logits (float32 or float64, 4-D
N x D x H x W): softmax is taken over the D channels of each pixel; labels (int32,
N x H x W) pick one channel per pixel, -1 marks a pixel to ignore. loss = sum over the
other pixels of w·(-log(max(softmax, 1e-20))) / sum of their w (0 when that is 0), w
the optional ``weight_tensor`` (N x H x W values, default 1). As in Caffe2, ``scale``
scales only the gradient. softmax has the logits' shape; loss is a scalar.

Example: logits=[[[[0, 1]], [[0, 1]]]], labels=[[[0, -1]]] ->
softmax=[[[[0.5, 0.5]], [[0.5, 0.5]]]], loss=0.6931472""",
)
def spatial_softmax_with_loss(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *,
                              scale: float, order: str) -> tuple:
    """Channel softmax per pixel and the weighted mean cross entropy."""
    return spatial_forward(x, t, w)


def spatial_forward(x: np.ndarray, t: np.ndarray, w: np.ndarray | None,
                    label_message: str = LABEL_MESSAGE) -> tuple:
    """(softmax, loss) of the spatial loss (shared with SoftmaxWithLoss's ``spatial``)."""
    dtype, lab, weights, care = _check(x, t, w, label_message)
    # Caffe2 started the running maximum at -1e20
    top = np.maximum(x.max(axis=1, keepdims=True), dtype.type(-1e20)) if x.shape[1] else 0
    e = np.exp(x - top)
    probs = e / e.sum(axis=1, keepdims=True, dtype=dtype)
    wts = np.ones(lab.shape, dtype) if weights is None else weights
    wts = np.where(care, wts, dtype.type(0))
    losses = -np.log(np.maximum(_picked(probs, lab), dtype.type(1e-20))) if probs.size else wts
    total = wts.sum(dtype=dtype)
    loss = (losses * wts).sum(dtype=dtype) / total if total != 0 else dtype.type(0)
    return (probs.astype(dtype, copy=False), np.array(loss, dtype))


@register_gradient("SpatialSoftmaxWithLoss")
def spatial_softmax_with_loss_gradient_maker(g):
    """``SpatialSoftmaxWithLossGradient([logits, labels(, weight_tensor), softmax,
    loss_grad]) -> [logits_grad]``."""
    inputs = [g.I(0), g.I(1), g.O(0), g.GO(1)]
    if len(g.def_.input) == 3:
        inputs.insert(2, g.I(2))
    return [g.op_def("SpatialSoftmaxWithLossGradient", inputs, [g.GI(0)])]


@register_cpu_operator(
    "SpatialSoftmaxWithLossGradient",
    inputs=["X", "T", "weight_tensor", "P", "dY"],
    outputs=["dX"],
    num_inputs=(4, 5),
    args=_ARGS,
    shape=lambda x, *rest, **kw: (x,),
    example=Example(
        {"X": np.array([[[[0, 1]], [[0, 1]]]], np.float32), "T": np.array([[[0, -1]]], np.int32),
         "P": np.array([[[[0.5, 0.5]], [[0.5, 0.5]]]], np.float32),
         "dY": np.array(2, np.float32)},
        {"dX": np.array([[[[-1, 0]], [[1, 0]]]], np.float32)}),
    doc="""Gradient of SpatialSoftmaxWithLoss: per pixel dX = (P - onehot(label))·w
(0 for don't-care pixels), all times scale / total weight (when positive) and times dY.

Example: X=[[[[0, 1]], [[0, 1]]]], T=[[[0, -1]]], P=[[[[0.5, 0.5]], [[0.5, 0.5]]]], dY=2
-> dX=[[[[-1, 0]], [[1, 0]]]]""",
)
def spatial_softmax_with_loss_gradient(x: np.ndarray, t: np.ndarray, *rest: np.ndarray,
                                       scale: float, order: str) -> tuple:
    """(P - onehot) · w · scale / total weight · dY on the cared-for pixels."""
    w, p, dy = (rest[0], rest[1], rest[2]) if len(rest) == 3 else (None, rest[0], rest[1])
    return spatial_backward(x, t, w, p, dy, scale)


def spatial_backward(x: np.ndarray, t: np.ndarray, w: np.ndarray | None, p: np.ndarray,
                     dy: np.ndarray, scale: float, label_message: str = LABEL_MESSAGE) -> tuple:
    """(dX,) of the spatial loss (shared with SoftmaxWithLossGradient's ``spatial``)."""
    dtype, lab, weights, care = _check(x, t, w, label_message)
    float_tensor(p, "P", dtype)
    float_tensor(dy, "dY", dtype)
    enforce_that(p.shape == x.shape, "P.sizes() == X.sizes()", blob="P",
                 expected=dims(x.shape), found=dims(p.shape))
    enforce_cmp(dy.size == 1, "d_avg_loss.numel() == 1", dy.size, 1, blob="dY")
    d = x.shape[1]
    onehot = (np.arange(d)[None, :, None, None] == lab[:, None]).astype(dtype)
    dx = p - onehot
    wts = np.ones(lab.shape, dtype) if weights is None else weights
    wts = np.where(care, wts, dtype.type(0))
    dx = dx * wts[:, None]
    total = wts.sum(dtype=dtype)
    if total > 0:
        dx = dx * (dtype.type(scale) / total)
    return ((dx * dy.reshape(-1)[0]).astype(dtype, copy=False),)


gradient_not_implemented_yet("SpatialSoftmaxWithLossGradient")
