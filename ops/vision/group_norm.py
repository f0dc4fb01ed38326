"""GroupNorm and GroupNormGradient (Caffe2 group_norm_op.cc/.h): group normalisation,
https://arxiv.org/abs/1803.08494.

The C channels of X split into `group` groups of D = C / group consecutive channels;
each image's group is normalised by its own mean and variance over its D channels
and all spatial positions, then every channel is scaled by gamma and shifted by beta:
Y = gamma * (X - mean) * inv_std + beta, inv_std = 1 / sqrt(var + epsilon) (the
biased variance). Outputs 1 and 2, when asked for, are the (N, group) means and
inverse standard deviations (for the gradient: Caffe2 warns they are no activations).
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import SchemaError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

_ORDER = Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"', check=lambda v: v in ("NCHW", "NHWC"),
             check_message='order should be either "NCHW" or "NHWC".', expected='"NCHW" or "NHWC"')
_GROUP = Arg("group", int, 32, doc="number of groups G (C must be a multiple of G)",
             check=lambda g: g > 0, check_message="group must be positive",
             expected="a positive group count")
_ARGS = [
    _GROUP,
    Arg("num_groups", int, 32, doc="named in Caffe2's schema doc but never read by its "
        "kernel, which reads `group`; accepted and ignored here too"),
    Arg("epsilon", float, 1e-5, doc="added to the variance"),
    _ORDER,
    Arg("is_test", bool, True, doc="when false, the op must have 3 outputs"),
]


def _grouped(x: np.ndarray, blob: str, group: int, order: str):
    """Checks of Caffe2's kernel, then a view (N, G, D, HxW) of X."""
    cp.check_float(x, blob)
    enforce_that(x.ndim >= 2, f"{blob}.dim() >= 2", "GroupNorm needs a batch and a channel axis",
                 blob=blob, expected="a tensor of rank 2 or more", found=dims(x.shape))
    n = x.shape[0]
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    enforce_cmp(c % group == 0, "C % group_ == 0", c % group, 0,
                f"The {c} channels do not split into {group} groups", blob=blob)
    d = c // group
    hxw = int(np.prod(cp.spatial_of(x.shape, order)))
    enforce_that(n == 0 or c > 0, "C > 0",
                 "GroupNorm needs at least one channel (Caffe2 divided by zero)",
                 blob=blob, expected="non-empty groups", found=dims(x.shape))
    if order == "NCHW":
        return x.reshape(n, group, d, hxw), n, c, d
    return np.moveaxis(x.reshape(n, hxw, group, d), 1, -1), n, c, d


def _ungroup(yg: np.ndarray, shape: tuple, order: str) -> np.ndarray:
    if order == "NCHW":
        return yg.reshape(shape)
    return np.ascontiguousarray(np.moveaxis(yg, -1, 1)).reshape(shape)


def _per_channel(v: np.ndarray, blob: str, c: int, dtype) -> None:
    cp.check_float(v, blob, dtype)
    enforce_cmp(v.size == c, f"{blob}.numel() == C", v.size, c, blob=blob)


def _shape(x, gamma=None, beta=None, *, num_outputs, group, order, **_):
    n = x.dims[0] if x.dims is not None and len(x.dims) >= 1 else None
    stats = TensorShape(None if n is None else (n, group), x.dtype)
    return (x,) + (stats,) * (num_outputs - 1)


@register_cpu_operator(
    "GroupNorm",
    inputs=["X", "gamma", "beta"],
    outputs=["Y", "mean", "std"],
    num_outputs=(1, 3),
    args=_ARGS,
    shape=_shape,
    example=Example(
        {"X": np.array([[[[1, 3]], [[5, 7]]]], np.float32),
         "gamma": np.array([1, 2], np.float32), "beta": np.array([0, 1], np.float32)},
        {"Y": np.array([[[[-1, 1]], [[-1, 3]]]], np.float32),
         "mean": np.array([[2, 6]], np.float32), "std": np.array([[1, 1]], np.float32)},
        {"group": 2, "epsilon": 0.0}),
    doc=__doc__.split("\n\n", 1)[1] + """
X is (N, C, *spatial) in "NCHW" order or (N, *spatial, C) in "NHWC", of rank 2 or
more; gamma and beta have C values. The group count is the argument `group` (default
32), as Caffe2's kernel read it; its schema doc named it `num_groups`, which the
kernel ignored. 1 or 3 outputs; with `is_test` false, 3 are required. Images without
spatial positions give means 0 and inverse stds 1 / sqrt(epsilon), as Caffe2's moments
of nothing; an empty batch gives empty outputs and zero channels is an error (Caffe2
divided by zero for both). The variance is the mean squared deviation (Caffe2 took
E[x^2] - mean^2: the same value without its cancellation). Float32 or float64.""",
)
def group_norm(x, gamma, beta, *, group, num_groups, epsilon, order, is_test, num_outputs):
    """Y and, with 3 outputs, the per-group means and inverse standard deviations."""
    if num_outputs == 2:
        raise SchemaError("Output size 2 not in allowed output sizes.", expected="1 or 3 outputs",
                          found=2)
    if not is_test and num_outputs != 3:
        raise SchemaError(f"OutputSize() == 3. {num_outputs} vs 3", expected="3 outputs",
                          found=num_outputs)
    xg, n, c, d = _grouped(x, "X", group, order)
    dt = x.dtype
    _per_channel(gamma, "gamma", c, dt)
    _per_channel(beta, "beta", c, dt)
    if xg.size:
        mean = xg.mean(axis=(2, 3), dtype=dt, keepdims=True)
        var = np.square(xg - mean).mean(axis=(2, 3), dtype=dt, keepdims=True)
    else:  # Caffe2's Moments of nothing: mean 0 and variance 0
        mean = var = np.zeros((n, group, 1, 1), dt)
    rstd = (1 / np.sqrt(var + dt.type(epsilon))).astype(dt)
    scale = gamma.reshape(1, group, d, 1) * rstd  # Caffe2's fused scale and bias
    shift = beta.reshape(1, group, d, 1) - scale * mean
    y = _ungroup((xg * scale + shift).astype(dt), x.shape, order)
    if num_outputs == 1:
        return (y,)
    return (y, mean.reshape(n, group), rstd.reshape(n, group))


@register_gradient("GroupNorm")
def group_norm_gradient_maker(g):
    """``GroupNormGradient([dY, X, gamma, beta, mean, std]) -> [dX, dgamma, dbeta]``
    from the forward op's saved statistics (outputs 1 and 2)."""
    return [g.op_def("GroupNormGradient", [g.GO(0), g.I(0), g.I(1), g.I(2), g.O(1), g.O(2)],
                     [g.GI(0), g.GI(1), g.GI(2)])]


def _grad_shape(dy, x, gamma, beta, mean, std, **_):
    return (x, gamma, beta)


@register_cpu_operator(
    "GroupNormGradient",
    inputs=["dY", "X", "gamma", "beta", "mean", "std"],
    outputs=["dX", "dgamma", "dbeta"],
    args=[_GROUP, _ORDER, Arg("epsilon", float, 1e-5, doc="accepted (the saved std is used)")],
    shape=_grad_shape,
    example=Example(
        {"dY": np.array([[[[1, 0]], [[0, 0]]]], np.float32),
         "X": np.array([[[[1, 3]], [[5, 7]]]], np.float32),
         "gamma": np.array([1, 2], np.float32), "beta": np.array([0, 1], np.float32),
         "mean": np.array([[2, 6]], np.float32), "std": np.array([[1, 1]], np.float32)},
        {"dX": np.array([[[[0, 0]], [[0, 0]]]], np.float32),
         "dgamma": np.array([-1, 0], np.float32), "dbeta": np.array([1, 0], np.float32)},
        {"group": 2}),
    doc="""Gradient of GroupNorm from the forward op's saved mean and inverse std (its
outputs 1 and 2): with s = sum(gamma * dY * X) and b = sum(gamma * dY) per image and
group, and n = D * HxW, dX = gamma * dY * inv_std + ((b * mean - s) * (X - mean) *
inv_std^3 - b * inv_std) / n; dgamma = sum over images and positions of dY * (X -
mean) * inv_std, dbeta = sum of dY. The sizes Caffe2 did not check (dY, mean, std) are
checked here.""",
)
def group_norm_gradient(dy, x, gamma, beta, mean, std, *, group, order, epsilon):
    """dX, dgamma, dbeta."""
    xg, n, c, d = _grouped(x, "X", group, order)
    dt = x.dtype
    _per_channel(gamma, "gamma", c, dt)
    _per_channel(beta, "beta", c, dt)
    cp.check_float(dy, "dY", dt)
    enforce_cmp(dy.shape == x.shape, "dY.sizes() == X.sizes()", dims(dy.shape), dims(x.shape),
                blob="dY")
    for v, name in ((mean, "mean"), (std, "std")):
        cp.check_float(v, name, dt)
        enforce_cmp(v.size == n * group, f"{name}.numel() == N * G", v.size, n * group, blob=name)
    if n == 0:
        return (np.zeros_like(x), np.zeros(gamma.shape, dt), np.zeros(beta.shape, dt))
    dyg = _grouped(dy, "dY", group, order)[0]
    mu = mean.reshape(n, group, 1, 1)
    r = std.reshape(n, group, 1, 1)
    gam = gamma.reshape(1, group, d, 1)
    ds = (gam * dyg * xg).sum(axis=(2, 3), dtype=dt, keepdims=True)
    db = (gam * dyg).sum(axis=(2, 3), dtype=dt, keepdims=True)
    u = (db * mu - ds) * (xg - mu) * (r * r * r)
    dxg = gam * dyg * r + (u - db * r) / dt.type(d * xg.shape[3])
    dgamma = (dyg * (xg - mu) * r).sum(axis=(0, 3), dtype=dt)
    dbeta = dyg.sum(axis=(0, 3), dtype=dt)
    return (_ungroup(dxg.astype(dt), x.shape, order), dgamma.reshape(gamma.shape).astype(dt),
            dbeta.reshape(beta.shape).astype(dt))


gradient_not_implemented_yet("GroupNormGradient")
