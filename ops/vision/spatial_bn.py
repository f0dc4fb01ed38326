"""SpatialBN (spatial batch normalisation) and SpatialBNGradient (Caffe2
spatial_batch_norm_op.cc/.h).

Inference (`is_test`): Y = scale * (X - mean) / sqrt(var + epsilon) + bias per channel.
Training: the batch's per-channel mean and (biased) variance normalise X; the running
mean and variance (inputs 3 and 4, updated in place as outputs 1 and 2) move towards
the batch mean and the unbiased batch variance (times n / (n - 1), n the values per
channel over all batches; NaN for n = 1, as Caffe2) by 1 - momentum; outputs 3 and 4
save the batch mean and inverse std for the gradient. With `num_batches` > 1, inputs 5 and 6 hold the per-channel sums of X and
X^2 over all the batches.
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
from caffe2lite.schema.shapes import UNKNOWN, TensorShape

from .._dense import dims, enforce_cmp
from . import _convpool as cp

_ORDER = Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"', check=lambda v: v in ("NCHW", "NHWC"),
             check_message='order should be either "NCHW" or "NHWC".', expected='"NCHW" or "NHWC"')
_ARGS = [
    Arg("is_test", bool, False, doc="inference: use the given mean and variance"),
    Arg("epsilon", float, 1e-5, doc="added to the variance", check=lambda e: e > 0,
        check_message="epsilon_ > 0", expected="a positive epsilon"),
    Arg("momentum", float, 0.9, doc="weight of the old running statistics",
        check=lambda m: 0 <= m <= 1, check_message="momentum must be in [0, 1]",
        expected="a momentum in [0, 1]"),
    _ORDER,
    Arg("num_batches", int, 1, doc="batches whose sums inputs 5 and 6 carry",
        check=lambda n: n >= 1, check_message="num_batches must be positive",
        expected="a positive count"),
]


def _channel_axes(x: np.ndarray, order: str) -> tuple[int, tuple[int, ...], tuple[int, ...]]:
    """C, the axes reduced for per-channel statistics, and the broadcast shape."""
    enforce_cmp(x.ndim >= 2, "ndim >= 2", x.ndim, 2, blob="X")
    axis = 1 if order == "NCHW" else x.ndim - 1
    reduce = tuple(a for a in range(x.ndim) if a != axis)
    shape = tuple(x.shape[axis] if a == axis else 1 for a in range(x.ndim))
    return x.shape[axis], reduce, shape


def _vector(v: np.ndarray, blob: str, c: int, dtype) -> None:
    cp.check_float(v, blob, dtype)
    enforce_cmp(v.size == c, f"{blob}.numel() == C", v.size, c, blob=blob)


def _inplace_rule(i: int, o: int) -> bool:
    return (i, o) in ((0, 0), (5, 3), (6, 4), (3, 1), (4, 2))


def _shape(x, scale=UNKNOWN, bias=UNKNOWN, mean=UNKNOWN, var=UNKNOWN, *_, num_outputs, order):
    c = None
    if x.dims is not None and len(x.dims) >= 2:
        c = x.dims[1] if order == "NCHW" else x.dims[-1]
    vec = TensorShape(None if c is None else (c,), x.dtype)
    return (x,) + (vec,) * (num_outputs - 1)


@register_cpu_operator(
    "SpatialBN",
    inputs=["X", "scale", "bias", "mean", "var", "sums", "sumsq"],
    outputs=["Y", "mean", "var", "saved_mean", "saved_var"],
    allowed_inputs={5, 7},
    num_outputs=(1, 5),
    allow_inplace=_inplace_rule,
    enforce_inplace=[(3, 1), (4, 2)],
    args=_ARGS,
    shape=_shape,
    example=Example(
        {"X": np.array([[[[1.0]], [[4.0]]]], np.float32), "scale": np.array([2, 1], np.float32),
         "bias": np.array([0, 1], np.float32), "mean": np.array([0, 2], np.float32),
         "var": np.array([1, 4], np.float32)},
        {"Y": np.array([[[[2.0]], [[2.0]]]], np.float32)},
        {"is_test": 1, "epsilon": 1e-20}, rtol=1e-5),
    doc=__doc__.split("\n\n", 1)[1],
)
def spatial_bn(x, scale, bias, mean, var, sums=None, sumsq=None, *, is_test, epsilon, momentum,
               order, num_batches, num_outputs):
    """Normalise X per channel (inference or training)."""
    if is_test != (num_outputs == 1) or num_outputs not in (1, 5):
        raise SchemaError("(is_test_ && OutputSize() == 1) || (!is_test_ && OutputSize() == 5)",
                          expected="1 output with is_test, 5 without",
                          found=f"{num_outputs} outputs, is_test={int(is_test)}")
    cp.check_float(x, "X")
    c, reduce, bshape = _channel_axes(x, order)
    _vector(scale, "scale", c, x.dtype)
    _vector(bias, "bias", c, x.dtype)
    dt = x.dtype
    if is_test:
        _vector(mean, "mean", c, dt)
        _vector(var, "var", c, dt)
        alpha = scale / np.sqrt(var.astype(dt) + dt.type(epsilon))
        beta = bias - alpha * mean
        return ((x * alpha.reshape(bshape) + beta.reshape(bshape)).astype(dt),)
    count = x.size // c if c else 0
    run_mean = mean.reshape(c).astype(dt) if mean.size == c else np.zeros(c, dt)
    run_var = var.reshape(c).astype(dt) if var.size == c else np.zeros(c, dt)
    if count == 0:  # an empty batch: nothing to learn from
        zeros = np.zeros(c, dt)
        return (x.copy(), run_mean, run_var, zeros, zeros.copy())
    if num_batches > 1:
        if sums is None or sumsq is None:
            raise SchemaError("num_batches > 1 needs the batch sums (inputs 5 and 6)",
                              expected="7 inputs", found="5 inputs")
        _vector(sums, "sums", c, dt)
        _vector(sumsq, "sumsq", c, dt)
        inv_n = dt.type(1) / dt.type(num_batches * count)
        batch_mean = sums * inv_n
        batch_var = sumsq * inv_n - batch_mean * batch_mean
    else:
        batch_mean = x.mean(axis=reduce, dtype=dt)
        batch_var = np.square(x - batch_mean.reshape(bshape)).mean(axis=reduce, dtype=dt)
    # Caffe2 moves the running variance towards the unbiased batch variance: the
    # biased one times n / (n - 1), n = num_batches * N * HxW (infinite for n == 1,
    # so a single value gives NaN there, as in Caffe2).
    n = num_batches * count
    a, b = dt.type(1) - dt.type(momentum), dt.type(momentum)
    unbias = dt.type(np.inf) if n == 1 else dt.type(n) / dt.type(n - 1)
    new_mean = (a * batch_mean + b * run_mean).astype(dt)
    with np.errstate(invalid="ignore"):
        new_var = ((a * unbias) * batch_var + b * run_var).astype(dt)
    rstd = (1 / np.sqrt(batch_var + dt.type(epsilon))).astype(dt)
    alpha = scale * rstd
    beta = bias - alpha * batch_mean
    y = (x * alpha.reshape(bshape) + beta.reshape(bshape)).astype(dt)
    return (y, new_mean, new_var, batch_mean.astype(dt), rstd)


@register_gradient("SpatialBN")
def spatial_bn_gradient_maker(g):
    """``SpatialBNGradient([X, scale, dY, saved_mean, saved_inv_std]) -> [dX, dscale,
    dbias]``; in test mode the estimated mean and variance stand in for the saved
    statistics (as Caffe2 passed them); with num_batches > 1 the scale and bias
    gradient sums are two more inputs."""
    is_test = g.arg("is_test", 0)
    outs = [g.GI(0), g.GI(1), g.GI(2)]
    if is_test:
        return [g.op_def("SpatialBNGradient", [g.I(0), g.I(1), g.GO(0), g.I(3), g.I(4)], outs)]
    ins = [g.I(0), g.I(1), g.GO(0), g.O(3), g.O(4)]
    if g.arg("num_batches", 1) > 1:
        ins += [g.GI(1), g.GI(2)]
    return [g.op_def("SpatialBNGradient", ins, outs)]


def _grad_shape(x, scale, dy, mean, rstd, *_):
    return (x, scale, scale)


@register_cpu_operator(
    "SpatialBNGradient",
    inputs=["X", "scale", "dY", "saved_mean", "saved_inv_std", "scale_grad_sum", "bias_grad_sum"],
    outputs=["X_grad", "scale_grad", "bias_grad"],
    allowed_inputs={5, 7},
    allow_inplace=[(5, 1), (6, 2)],
    args=[a for a in _ARGS if a.name in ("epsilon", "order", "num_batches")],
    shape=_grad_shape,
    example=Example(
        {"X": np.array([[[[1.0]], [[2.0]]], [[[3.0]], [[6.0]]]], np.float32),
         "scale": np.array([1, 1], np.float32),
         "dY": np.array([[[[1.0]], [[1.0]]], [[[1.0]], [[1.0]]]], np.float32),
         "saved_mean": np.array([2, 4], np.float32), "saved_inv_std": np.array([1, 0.5], np.float32)},
        {"X_grad": np.zeros((2, 2, 1, 1), np.float32), "scale_grad": np.array([0, 0], np.float32),
         "bias_grad": np.array([2, 2], np.float32)}),
    doc="""Gradient of SpatialBN in training mode: with the saved batch mean and inverse
std, dbias = sum(dY), dscale = sum(dY * (X - mean) * inv_std) per channel, and dX the
batch-normalisation gradient. With `num_batches` > 1 the scale and bias gradients are
the given sums (inputs 5 and 6, which may be updated in place as outputs 1 and 2)
divided by `num_batches`.""",
)
def spatial_bn_gradient(x, scale, dy, saved_mean, saved_inv_std, scale_grad_sum=None,
                        bias_grad_sum=None, *, epsilon, order, num_batches):
    """dX, dscale, dbias."""
    cp.check_float(x, "X")
    c, reduce, bshape = _channel_axes(x, order)
    dt = x.dtype
    _vector(scale, "scale", c, dt)
    _vector(saved_mean, "saved_mean", c, dt)
    _vector(saved_inv_std, "saved_inv_std", c, dt)
    cp.check_float(dy, "dY", dt)
    enforce_cmp(dy.shape == x.shape, "dY.sizes() == X.sizes()", dims(dy.shape), dims(x.shape),
                blob="dY")
    if x.shape[0] == 0:
        return (np.zeros_like(x), np.zeros(c, dt), np.zeros(c, dt))
    mu = saved_mean.reshape(bshape)
    r = saved_inv_std.reshape(bshape)
    xhat = (x - mu) * r
    if num_batches > 1:
        if scale_grad_sum is None or bias_grad_sum is None:
            raise SchemaError("num_batches > 1 needs the gradient sums (inputs 5 and 6)",
                              expected="7 inputs", found="5 inputs")
        _vector(scale_grad_sum, "scale_grad_sum", c, dt)
        _vector(bias_grad_sum, "bias_grad_sum", c, dt)
        # the summed gradients are averaged over the batches (Caffe2 scales them
        # by 1 / num_batches); dX uses this batch's N * HxW
        inv = dt.type(1) / dt.type(num_batches)
        dscale = scale_grad_sum.reshape(c).astype(dt) * inv
        dbias = bias_grad_sum.reshape(c).astype(dt) * inv
    else:
        dbias = dy.sum(axis=reduce, dtype=dt)
        dscale = (dy * xhat).sum(axis=reduce, dtype=dt)
    m = dt.type(x.size // c)
    alpha = (scale.reshape(c) * saved_inv_std.reshape(c)).reshape(bshape)
    dx = alpha * (dy - (dbias.reshape(bshape) + xhat * dscale.reshape(bshape)) / m)
    return (dx.astype(dt), dscale.astype(dt), dbias.astype(dt))


gradient_not_implemented_yet("SpatialBNGradient")
