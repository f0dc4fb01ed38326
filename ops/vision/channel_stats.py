"""ChannelStats and ChannelBackpropStats (Caffe2 channel_stats_op.cc,
channel_backprop_stats_op.cc): per-channel sums for batch normalisation over several
batches (data_parallel_model's combine_spatial_bn): each device's sums are added up
and handed to SpatialBN / SpatialBNGradient with ``num_batches``."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp
from . import _convpool as cp
from .spatial_bn import _ORDER


def _per_channel(x: np.ndarray, order: str) -> np.ndarray:
    """X as (N, C, values) float32 (NHWC moved to NCHW first)."""
    x = cp.to_channels_first(x, order)
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


def _stats_shape(x: TensorShape, *, order: str) -> tuple[TensorShape, TensorShape]:
    c = None
    if x.dims is not None and len(x.dims) >= 2:
        c = (x.dims[1] if order == "NCHW" else x.dims[-1],)
    return (TensorShape(c, np.float32), TensorShape(c, np.float32))


@register_cpu_operator(
    "ChannelStats",
    inputs=["X"],
    outputs=["sum", "sumsq"],
    args=[_ORDER],
    shape=_stats_shape,
    example=Example({"X": np.array([[[1, 2], [3, 4]], [[5, 6], [7, 8]]], np.float32)},
                    {"sum": np.array([14, 22], np.float32),
                     "sumsq": np.array([66, 138], np.float32)}),
    doc="""Per-channel sum and sum of squares of a float32 tensor X (N, C, ...) in NCHW
order (or (N, ..., C) with order="NHWC"): sum[c] = sum of X[:, c], sumsq[c] = sum of
X[:, c]^2, each float32 of shape (C,). Summed over several batches (devices), they
give SpatialBN (num_batches) the mean and variance of the whole batch.

Example: X=[[[1, 2], [3, 4]], [[5, 6], [7, 8]]] (N=2, C=2) -> sum=[14, 22],
sumsq=[66, 138]""",
)
def channel_stats(x, *, order) -> tuple:
    """Per-channel sums, accumulated batch item after batch item as Caffe2 did."""
    cp.check_float(x, "X", np.float32)
    enforce_cmp(x.ndim >= 2, "X.dim() >= 2", x.ndim, 2, blob="X")
    v = _per_channel(x, order)
    total = np.zeros(v.shape[1], np.float32)
    squares = np.zeros(v.shape[1], np.float32)
    for item in v:  # (N is a batch of a few items: one vector add per item)
        total += item.sum(axis=1, dtype=np.float32)
        squares += np.square(item).sum(axis=1, dtype=np.float32)
    return total, squares


should_not_do_gradient("ChannelStats")


def _backprop_shape(x: TensorShape, mean: TensorShape, inv_std: TensorShape,
                    dy: TensorShape) -> tuple[TensorShape, TensorShape]:
    c = (x.dims[1],) if x.dims is not None and len(x.dims) >= 2 else None
    return (TensorShape(c, np.float32), TensorShape(c, np.float32))


@register_cpu_operator(
    "ChannelBackpropStats",
    inputs=["X", "mean", "inv_std", "output_grad"],
    outputs=["scale_grad", "bias_grad"],
    shape=_backprop_shape,
    example=Example({"X": np.array([[[1, 3]], [[5, 7]]], np.float32),
                     "mean": np.array([4], np.float32),
                     "inv_std": np.array([0.5], np.float32),
                     "output_grad": np.array([[[1, 1]], [[2, -1]]], np.float32)},
                    {"scale_grad": np.array([-2.5], np.float32),
                     "bias_grad": np.array([3], np.float32)}),
    doc="""The per-channel gradients of SpatialBN's scale and bias from one batch: with X
(N, C, H[, W[, D]]) in NCHW order, the saved mean and inverse std of the forward pass
(C,) and output_grad dY shaped like X, scale_grad[c] = sum of (X - mean[c]) *
inv_std[c] * dY over channel c and bias_grad[c] = sum of dY over channel c (float32).
Summed over devices, they go to SpatialBNGradient (num_batches) as inputs 5 and 6.

Example: X=[[[1, 3]], [[5, 7]]], mean=[4], inv_std=[0.5], output_grad=[[[1, 1]],
[[2, -1]]] -> scale_grad=[-2.5] ((1-4)*0.5*1 + (3-4)*0.5*1 + (5-4)*0.5*2 +
(7-4)*0.5*(-1)), bias_grad=[3]""",
)
def channel_backprop_stats(x, mean, inv_std, dy) -> tuple:
    """Per-channel scale and bias gradients, batch item after batch item."""
    cp.check_float(x, "X", np.float32)
    enforce_cmp(3 <= x.ndim <= 5, "X.dim() >= 3 && X.dim() <= 5", x.ndim, "3..5", blob="X")
    c = x.shape[1]
    for blob, vec in (("mean", mean), ("inv_std", inv_std)):
        cp.check_float(vec, blob, np.float32)
        enforce_cmp(vec.size == c, f"{blob}.numel() == C", vec.size, c, blob=blob)
    cp.check_float(dy, "output_grad", np.float32)
    enforce_cmp(dy.shape == x.shape, "output_grad.sizes() == X.sizes()", dy.shape, x.shape,
                blob="output_grad")
    xv, dv = _per_channel(x, "NCHW"), _per_channel(dy, "NCHW")
    scale_grad = np.zeros(c, np.float32)
    bias_grad = np.zeros(c, np.float32)
    m, s = mean.reshape(c, 1), inv_std.reshape(c, 1)
    for xi, di in zip(xv, dv):
        bias_grad += di.sum(axis=1, dtype=np.float32)
        scale_grad += ((xi - m) * s * di).sum(axis=1, dtype=np.float32)
    return scale_grad, bias_grad


should_not_do_gradient("ChannelBackpropStats")
