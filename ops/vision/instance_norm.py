"""InstanceNorm and InstanceNormGradient (Caffe2 instance_norm_op.cc,
instance_norm_gradient_op.cc): instance normalisation, https://arxiv.org/abs/1607.08022.

Every channel of every image is normalised by its own mean and (biased) variance over
the spatial positions, then scaled and shifted per channel: output = scale * (input -
mean) / sqrt(var + epsilon) + bias. Outputs 1 and 2, when asked for, are the (N, C)
means and inverse standard deviations, saved for the gradient.
"""

from __future__ import annotations

import numpy as np

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

_ARGS = [
    Arg("epsilon", float, 1e-5, doc="added to the variance", check=lambda e: e >= 0,
        check_message="Must pass a nonnegative epsilon.", expected="epsilon >= 0"),
    Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"', check=lambda v: v in ("NCHW", "NHWC"),
        check_message='order should be either "NCHW" or "NHWC".', expected='"NCHW" or "NHWC"'),
]


def _per_channel(x: np.ndarray, blob: str, order: str):
    """Checks, then a view (N, C, HxW) of X, and N, C."""
    cp.check_float(x, blob)
    enforce_that(x.ndim >= 2, f"{blob}.dim() >= 2", "InstanceNorm needs a batch and a channel "
                 "axis", blob=blob, expected="a tensor of rank 2 or more", found=dims(x.shape))
    n = x.shape[0]
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    hxw = int(np.prod(cp.spatial_of(x.shape, order)))
    enforce_that(n * c == 0 or hxw > 0, "HxW > 0",
                 "every channel needs at least one element to normalise (Caffe2 divided by "
                 "zero)", blob=blob, expected="a non-empty image", found=dims(x.shape))
    if order == "NCHW":
        return x.reshape(n, c, hxw), n, c
    return np.moveaxis(x.reshape(n, hxw, c), 1, -1), n, c


def _from_per_channel(yc: np.ndarray, shape: tuple, order: str) -> np.ndarray:
    if order == "NCHW":
        return yc.reshape(shape)
    return np.ascontiguousarray(np.moveaxis(yc, -1, 1)).reshape(shape)


def _vector(v: np.ndarray, blob: str, c: int, dtype) -> None:
    cp.check_float(v, blob, dtype)
    enforce_cmp(v.size == c, f"{blob}.numel() == C", v.size, c, blob=blob)


def _moments(xc: np.ndarray, epsilon: float):
    dt = xc.dtype
    if xc.size == 0:
        empty = np.zeros(xc.shape[:2] + (1,), dt)
        return empty, empty.copy()
    mean = xc.mean(axis=2, dtype=dt, keepdims=True)
    var = np.square(xc - mean).mean(axis=2, dtype=dt, keepdims=True)
    return mean, (1 / np.sqrt(var + dt.type(epsilon))).astype(dt)


def _shape(x, scale=None, bias=None, *, num_outputs, order, **_):
    stats = None
    if x.dims is not None and len(x.dims) >= 2:
        stats = (x.dims[0], x.dims[1] if order == "NCHW" else x.dims[-1])
    return (x,) + (TensorShape(stats, x.dtype),) * (num_outputs - 1)


_X = np.array([[[1, 3], [5, 9]]], np.float32)


@register_cpu_operator(
    "InstanceNorm",
    inputs=["input", "scale", "bias"],
    outputs=["output", "saved_mean", "saved_inv_stdev"],
    num_outputs=(1, 3),
    allow_inplace=[(0, 0)],
    args=_ARGS,
    shape=_shape,
    example=Example(
        {"input": _X, "scale": np.array([1, 2], np.float32), "bias": np.array([0, 1], np.float32)},
        {"output": np.array([[[-1, 1], [-1, 3]]], np.float32),
         "saved_mean": np.array([[2, 7]], np.float32),
         "saved_inv_stdev": np.array([[1, 0.5]], np.float32)},
        {"epsilon": 0.0}),
    doc=__doc__.split("\n\n", 1)[1] + """
input is (N, C, *spatial) in "NCHW" order or (N, *spatial, C) in "NHWC" (Caffe2's
last kernel took any rank >= 2); scale and bias have C values. 1, 2 (output and
saved_mean) or 3 outputs; output may overwrite input. The variance is the mean squared
deviation (Caffe2 took E[x^2] - mean^2, clamped at 0: the same value without its
cancellation). An image without spatial elements is an error here (Caffe2 divided by
zero). Float32 or float64.""",
)
def instance_norm(x, scale, bias, *, epsilon, order, num_outputs):
    """output, and the saved means and inverse standard deviations."""
    xc, n, c = _per_channel(x, "input", order)
    dt = x.dtype
    _vector(scale, "scale", c, dt)
    _vector(bias, "bias", c, dt)
    mean, rstd = _moments(xc, epsilon)
    fused_scale = scale.reshape(1, c, 1) * rstd  # Caffe2's fused parameters
    fused_bias = bias.reshape(1, c, 1) - fused_scale * mean
    y = _from_per_channel((xc * fused_scale + fused_bias).astype(dt), x.shape, order)
    return (y, mean.reshape(n, c), rstd.reshape(n, c))[:num_outputs]


@register_gradient("InstanceNorm")
def instance_norm_gradient_maker(g):
    """``InstanceNormGradient([input, scale, bias, output_grad, saved_mean?,
    saved_inv_stdev?]) -> [input_grad, scale_grad, bias_grad]``: the saved statistics
    are passed when the forward op had them."""
    ins = [g.I(0), g.I(1), g.I(2), g.GO(0)]
    if len(g.def_.output) >= 2:
        ins.append(g.O(1))
    if len(g.def_.output) >= 3:
        ins.append(g.O(2))
    return [g.op_def("InstanceNormGradient", ins, [g.GI(0), g.GI(1), g.GI(2)])]


def _grad_shape(x, scale, bias, dy, *_, **__):
    return (x, scale, scale)


@register_cpu_operator(
    "InstanceNormGradient",
    inputs=["input", "scale", "bias", "output_grad", "mean", "inv_stdev"],
    outputs=["input_grad", "scale_grad", "bias_grad"],
    num_inputs=(4, 6),
    args=_ARGS,
    shape=_grad_shape,
    example=Example(
        {"input": _X, "scale": np.array([1, 2], np.float32), "bias": np.array([0, 1], np.float32),
         "output_grad": np.array([[[1, 0], [0, 0]]], np.float32)},
        {"input_grad": np.zeros((1, 2, 2), np.float32),
         "scale_grad": np.array([-1, 0], np.float32), "bias_grad": np.array([1, 0], np.float32)},
        {"epsilon": 0.0}),
    doc="""Gradient of InstanceNorm. With all 6 inputs the saved mean and inverse std
are used; with 4 or 5 (as Caffe2, a lone saved mean is ignored) both are computed
again from input and epsilon. Per image and channel, with ds = sum(dY * X), db =
sum(dY) and n = HxW: input_grad = scale * inv_std * dY + c2 * X + c3 where c2 =
scale * (db * mean - ds) * inv_std^3 / n and c3 = -c2 * mean - scale * db * inv_std /
n; scale_grad = sum over images of (ds - db * mean) * inv_std, bias_grad = sum of db.
The gradient sizes take scale's shape. Sizes Caffe2 did not check (output_grad, the
saved statistics) are checked here.""",
)
def instance_norm_gradient(x, scale, bias, dy, mean=None, rstd=None, *, epsilon, order):
    """input_grad, scale_grad, bias_grad."""
    xc, n, c = _per_channel(x, "input", order)
    dt = x.dtype
    _vector(scale, "scale", c, dt)
    cp.check_float(dy, "output_grad", dt)
    enforce_cmp(dy.shape == x.shape, "output_grad.sizes() == input.sizes()", dims(dy.shape),
                dims(x.shape), blob="output_grad")
    if rstd is not None:
        for v, name in ((mean, "mean"), (rstd, "inv_stdev")):
            cp.check_float(v, name, dt)
            enforce_cmp(v.size == n * c, f"{name}.numel() == N * C", v.size, n * c, blob=name)
        mu, r = mean.reshape(n, c, 1), rstd.reshape(n, c, 1)
    else:
        mu, r = _moments(xc, epsilon)
    dyc = _per_channel(dy, "output_grad", order)[0]
    ds = (dyc * xc).sum(axis=2, dtype=dt, keepdims=True)
    db = dyc.sum(axis=2, dtype=dt, keepdims=True)
    gam = scale.reshape(1, c, 1)
    inv_n = dt.type(1 / xc.shape[2]) if xc.shape[2] else dt.type(0)
    c2 = gam * (db * mu - ds) * r * r * r * inv_n
    c3 = -c2 * mu - gam * db * r * inv_n
    dx = _from_per_channel((gam * r * dyc + c2 * xc + c3).astype(dt), x.shape, order)
    dscale = ((ds - db * mu) * r).sum(axis=0, dtype=dt).reshape(scale.shape)
    dbias = db.sum(axis=0, dtype=dt).reshape(scale.shape)
    return (dx, dscale.astype(dt), dbias.astype(dt))


gradient_not_implemented_yet("InstanceNormGradient")
