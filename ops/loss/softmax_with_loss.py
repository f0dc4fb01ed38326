"""SoftmaxWithLoss (softmax over each row of the logits, then the (weighted) average
cross entropy against integer labels or label distributions) and its gradient op
SoftmaxWithLossGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import canonical_axis, dims, enforce_cmp, enforce_that, float_tensor, size_from
from .._dense import size_to
from .spatial_softmax_with_loss import spatial_backward, spatial_forward

_ARGS = [
    Arg("scale", float, 1.0, doc="the average loss is multiplied by this (>= 0)",
        check=lambda s: s >= 0, check_message="scale_ >= 0", expected="scale >= 0"),
    Arg("label_prob", int, 0, doc="1: labels are probability distributions (X's shape)"),
    Arg("order", str, "NCHW", doc="storage order; only NCHW is supported",
        check=lambda o: o in ("NCHW", "nchw"),
        check_message="Only NCHW order is supported right now.", expected="NCHW"),
    Arg("axis", int, 1, doc="the logits are rows of X flattened at this axis"),
    Arg("spatial", int, 0, doc="1: per-pixel loss on NCHW logits (as SpatialSoftmaxWithLoss)"),
]

_SPATIAL_LABEL_MESSAGE = "Label seems incorrect: label value larger than number of classes: "


def _check_spatial(axis: int) -> None:
    """Caffe2 refused another axis in spatial mode (when it created the op)."""
    if axis != 1:
        raise ArgumentError("There is no support for non-standard axis (!= 1) in spatial mode",
                            arg="axis", expected=1, found=axis)


def check_labels(t: np.ndarray, ax: int, n: int, d: int, label_prob: int, dtype) -> np.ndarray:
    """The labels as (N,) int64 or (N, D) probabilities, after Caffe2's shape checks."""
    if label_prob:
        float_tensor(t, "labels", dtype)
        enforce_cmp(t.ndim >= 2, "T.dim() >= 2", t.ndim, 2, blob="labels")
        if t.ndim < ax:
            enforce_that(False, "k <= dims().size()", blob="labels",
                         expected=f"at least {ax} dimensions", found=dims(t.shape))
        enforce_cmp(size_to(t.shape, ax) == n, "T.size_to_dim(canonical_axis) == N",
                    size_to(t.shape, ax), n, blob="labels")
        enforce_cmp(size_from(t.shape, ax) == d, "T.size_from_dim(canonical_axis) == D",
                    size_from(t.shape, ax), d, blob="labels")
        return t.reshape(n, d)
    check_dtype(t, "labels", np.int32)
    if t.ndim == ax:
        enforce_cmp(t.size == n, "T.numel() == N", t.size, n, blob="labels")
    else:
        if t.ndim < ax:
            enforce_that(False, "k <= dims().size()", blob="labels",
                         expected=f"at least {ax} dimensions", found=dims(t.shape))
        enforce_cmp(size_to(t.shape, ax) == n, "T.size_to_dim(canonical_axis) == N",
                    size_to(t.shape, ax), n, blob="labels")
        enforce_cmp(size_from(t.shape, ax) == 1, "T.size_from_dim(canonical_axis) == 1",
                    size_from(t.shape, ax), 1, blob="labels")
    lab = t.reshape(n).astype(np.int64)
    bad = np.flatnonzero((lab >= d) | (lab < 0))
    if bad.size:
        raise EnforceError("Label seems incorrect: label value larger than number of classes: "
                           f"{int(lab[bad[0]])} vs {d}", blob="labels",
                           expected=f"labels in [0, {d})", found=f"{int(lab[bad[0]])} at {bad[0]}")
    return lab


def check_weights(w: np.ndarray | None, count: int, dtype) -> np.ndarray | None:
    """The weight input (``count`` values: Caffe2 read that many, unchecked)."""
    if w is None:
        return None
    float_tensor(w, "weight_tensor", dtype)
    enforce_cmp(w.size == count, "weight_tensor.numel() == N", w.size, count,
                blob="weight_tensor")
    return w.reshape(count)


def _check_label_probs(lab: np.ndarray) -> None:
    """Each row nonnegative and summing to 1 within 1e-5, reported for the first bad
    row as Caffe2's row-by-row loop did."""
    negative = lab < 0
    totals = lab.sum(axis=1, dtype=np.float64)
    bad_rows = np.flatnonzero(negative.any(axis=1) | ~(np.abs(totals - 1.0) < 1e-5))
    if not bad_rows.size:
        return
    i = int(bad_rows[0])
    if negative[i].any():
        value = lab[i][negative[i]][0]
        raise EnforceError("Label prob seems incorrect: label prob value must be nonnegative: "
                           f"{value:g}", blob="labels", expected="probabilities >= 0",
                           found=f"{value:g} in row {i}")
    raise EnforceError(f"Label prob seems incorrect: label prob values do not sum to 1.0: "
                       f"{totals[i]:g} vs 1.0 (+/- 1e-5)", blob="labels",
                       expected="rows summing to 1", found=f"{totals[i]:g} in row {i}")


def _shape(x: TensorShape, t: TensorShape, w: TensorShape | None = None,
           **kwargs: object) -> tuple[TensorShape, TensorShape]:
    return (x, TensorShape((), x.dtype))


@register_cpu_operator(
    "SoftmaxWithLoss",
    inputs=["logits", "labels", "weight_tensor"],
    outputs=["softmax", "loss"],
    num_inputs=(2, 3),
    args=_ARGS + [Arg("only_loss", bool, False,
                      doc="not read here: the gradient maker copies it to "
                          "SoftmaxWithLossGradient (Caffe2 set it on this op)")],
    shape=_shape,
    example=Example(
        {"logits": np.array([[0.1, 0.4, 0.7, 1.5, 0.2]], np.float32),
         "labels": np.array([4], np.int32)},
        {"softmax": np.array([[0.10715417, 0.144643, 0.19524762, 0.4345316, 0.11842369]],
                             np.float32),
         "loss": np.array(10.667433, np.float32)},
        args={"scale": 5.0}, rtol=1e-5),
    doc="""Softmax of each row of ``logits`` (float32 or float64, flattened at ``axis`` to
N rows of D classes), then the cross entropy against ``labels``, averaged: loss =
scale·sum_i w_i·ℓ_i / sum_i w_i (0 when the weights sum to 0), w_i the optional
``weight_tensor`` (N values, default 1). With integer labels (int32, N values: shape
X.shape[:axis], or that with trailing 1s) ℓ_i = -log softmax[i, label_i], labels in
[0, D). With ``label_prob`` = 1, labels are distributions of X's type and N·D values
(nonnegative, each row summing to 1 within 1e-5) and ℓ_i = -sum_j label[i, j]·
log(max(softmax[i, j], 1e-20)). softmax has the logits' shape; loss is a scalar.
``spatial`` = 1 (from Caffe2 versions before SpatialSoftmaxWithLoss took it over; it
needs ``axis`` = 1 and ignores ``label_prob``) computes SpatialSoftmaxWithLoss instead:
NCHW logits, N x H x W int32 labels with -1 ignored, per-pixel weights, and ``scale``
applied to the gradient only.

Example: logits=[[0.1, 0.4, 0.7, 1.5, 0.2]], labels=[4] with scale=5 ->
softmax=[[0.10715417, 0.144643, 0.19524762, 0.4345316, 0.11842369]], loss=10.667433""",
)
def softmax_with_loss(x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None, *,
                      scale: float, label_prob: int, order: str, axis: int,
                      spatial: int, only_loss: bool) -> tuple:
    """Row softmax and the weighted mean cross entropy."""
    if spatial:
        _check_spatial(axis)
        return spatial_forward(x, t, w, _SPATIAL_LABEL_MESSAGE)
    dtype = float_tensor(x, "logits")
    ax = canonical_axis(axis, x.ndim)
    n, d = size_to(x.shape, ax), size_from(x.shape, ax)
    lab = check_labels(t, ax, n, d, label_prob, dtype)
    weights = check_weights(w, n, dtype)
    rows = x.reshape(n, d)
    shifted = rows - (rows.max(axis=1, keepdims=True) if d else 0)
    with np.errstate(divide="ignore"):
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True, dtype=dtype))
    wts = np.ones(n, dtype) if weights is None else weights
    if label_prob:
        _check_label_probs(lab)
        probs = np.exp(log_p)
        losses = -np.einsum("ij,ij->i", np.log(np.maximum(probs, dtype.type(1e-20))), lab)
    else:
        probs = np.exp(log_p)
        losses = -log_p[np.arange(n), lab]
    weight_sum = wts.sum(dtype=dtype)
    loss_sum = np.dot(losses, wts) if n else dtype.type(0)
    avg = loss_sum * dtype.type(scale) / weight_sum if weight_sum != 0 else dtype.type(0)
    return (probs.reshape(x.shape).astype(dtype, copy=False), np.array(avg, dtype))


@register_gradient("SoftmaxWithLoss")
def softmax_with_loss_gradient_maker(g):
    """``SoftmaxWithLossGradient([logits, labels(, weight_tensor), softmax, loss_grad])
    -> [logits_grad]``."""
    inputs = [g.I(0), g.I(1), g.O(0), g.GO(1)]
    if len(g.def_.input) == 3:
        inputs.insert(2, g.I(2))
    return [g.op_def("SoftmaxWithLossGradient", inputs, [g.GI(0)])]


def _gradient_shape(x: TensorShape, *rest: TensorShape) -> tuple[TensorShape]:
    return (x,)


@register_cpu_operator(
    "SoftmaxWithLossGradient",
    inputs=["X", "T", "weight_tensor", "P", "dY"],
    outputs=["dX"],
    num_inputs=(4, 5),
    args=_ARGS + [Arg("only_loss", bool, False, doc="unused on CPU")],
    shape=_gradient_shape,
    example=Example(
        {"X": np.array([[0, 0]], np.float32), "T": np.array([1], np.int32),
         "P": np.array([[0.5, 0.5]], np.float32), "dY": np.array(2, np.float32)},
        {"dX": np.array([[1, -1]], np.float32)}),
    doc="""Gradient of SoftmaxWithLoss from the logits X (for their shape), the labels T,
the optional weights, the forward softmax P and the loss gradient dY (one value):
dX = (P - onehot(T)) (or P - T with ``label_prob``), each row times its weight, all
times scale·dY / total weight (N without weights; no scaling when the total is 0).
With ``spatial`` = 1, SpatialSoftmaxWithLossGradient's computation.

Example: X=[[0, 0]], T=[1], P=[[0.5, 0.5]], dY=2 -> dX=[[1, -1]]""",
)
def softmax_with_loss_gradient(x: np.ndarray, t: np.ndarray, *rest: np.ndarray, scale: float,
                               label_prob: int, order: str, axis: int, spatial: int,
                               only_loss: bool) -> tuple:
    """(P - labels) · weights · scale · dY / total weight."""
    w, p, dy = (rest[0], rest[1], rest[2]) if len(rest) == 3 else (None, rest[0], rest[1])
    if spatial:
        _check_spatial(axis)
        return spatial_backward(x, t, w, p, dy, scale, _SPATIAL_LABEL_MESSAGE)
    dtype = float_tensor(x, "X")
    float_tensor(p, "P", dtype)
    float_tensor(dy, "dY", dtype)
    ax = canonical_axis(axis, x.ndim)
    n, d = size_to(x.shape, ax), size_from(x.shape, ax)
    lab = check_labels(t, ax, n, d, label_prob, dtype)
    weights = check_weights(w, n, dtype)
    if p.size != x.size:
        enforce_that(False, "P.numel() == X.numel()", blob="P",
                     expected=f"{x.size} probabilities", found=dims(p.shape))
    enforce_cmp(dy.size == 1, "d_avg_loss.numel() == 1", dy.size, 1, blob="dY")
    dx = p.reshape(n, d).copy()
    if label_prob:
        dx -= lab
    else:
        dx[np.arange(n), lab] -= 1
    if weights is not None:
        dx *= weights[:, None]
        total = weights.sum(dtype=dtype)
    else:
        total = dtype.type(n)
    if total > 0:
        dx *= dtype.type(scale) / total * dy.reshape(-1)[0]
    return (dx.reshape(x.shape),)


gradient_not_implemented_yet("SoftmaxWithLossGradient")
