"""LRN (local response normalisation across channels) and LRNGradient (Caffe2
local_response_normalization_op.cc).

scale[c] = bias + alpha / size * sum of X[c']^2 over the `size` channels c' from
c - (size - 1) // 2 to c + size // 2 (clipped to the existing channels);
Y = X * scale^-beta. The optional second output is `scale`.
"""

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
from caffe2lite.schema.shapes import TensorShape, pointwise_cost

from .._dense import dims, enforce_cmp
from . import _convpool as cp

_ARGS = [
    Arg("size", int, 0, doc="number of channels summed (odd)"),
    Arg("alpha", float, 0.0, doc="scale of the sum of squares"),
    Arg("beta", float, 0.0, doc="exponent"),
    Arg("bias", float, 1.0, doc="added to the scaled sum"),
    Arg("order", str, "NCHW", check=lambda v: v in ("NCHW", "NHWC"),
        check_message="Unknown storage order", expected='"NCHW" or "NHWC"'),
]


def _window_sum(sq: np.ndarray, axis: int, before: int, after: int) -> np.ndarray:
    """Sum of sq over [c - before, c + after] along ``axis`` (clipped), via a
    cumulative sum with a zero row in front."""
    n = sq.shape[axis]
    cs = np.cumsum(sq, axis=axis, dtype=sq.dtype)
    zero = np.zeros_like(np.take(cs, [0], axis=axis))
    cs = np.concatenate([zero, cs], axis=axis)
    idx = np.arange(n)
    hi = np.minimum(idx + after + 1, n)
    lo = np.clip(idx - before, 0, n)
    return np.take(cs, hi, axis=axis) - np.take(cs, lo, axis=axis)


def _scale(x: np.ndarray, size: int, alpha: float, bias: float, order: str) -> np.ndarray:
    if size <= 0:
        raise ArgumentError("size_ > 0. Argument size must be positive", arg="size",
                            expected="a positive size", found=size)
    axis = 1 if order == "NCHW" else x.ndim - 1
    pre = (size - 1) // 2
    s = _window_sum(x * x, axis, pre, size - pre - 1)
    return (x.dtype.type(bias) + x.dtype.type(alpha / size) * s).astype(x.dtype)


def _check(x, order):
    cp.check_float(x, "X")
    enforce_cmp(x.ndim == 4, "X.dim() == 4", x.ndim, 4, blob="X")


@register_cpu_operator(
    "LRN",
    inputs=["X"],
    outputs=["Y", "Y_scale"],
    num_outputs=(1, 2),
    allow_inplace=[(0, 0)],
    args=_ARGS,
    shape=lambda x, *, num_outputs: (x,) * num_outputs,
    cost=pointwise_cost(4),
    example=Example({"X": np.array([[[[1.0]], [[2.0]], [[2.0]]]], np.float32)},
                    {"Y": np.array([[[[1 / 3.5]], [[2 / 5.5]], [[0.4]]]], np.float32),
                     "Y_scale": np.array([[[[3.5]], [[5.5]], [[5.0]]]], np.float32)},
                    {"size": 3, "alpha": 1.5, "beta": 1.0, "bias": 1.0}, rtol=1e-6),
    doc=__doc__.split("\n\n", 1)[1] + "\nX is a 4-D float32/float64 image batch, NCHW or NHWC.",
)
def lrn(x, *, size, alpha, beta, bias, order, num_outputs):
    """Y = X * scale^-beta."""
    _check(x, order)
    scale = _scale(x, size, alpha, bias, order)
    y = (x * np.power(scale, -x.dtype.type(beta))).astype(x.dtype)
    return (y, scale) if num_outputs == 2 else (y,)


@register_gradient("LRN")
def lrn_gradient_maker(g):
    """``LRNGradient([X, Y, dY]) -> [dX]``."""
    return [g.op_def("LRNGradient", [g.I(0), g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "LRNGradient",
    inputs=["X", "Y", "dY"],
    outputs=["dX"],
    args=_ARGS,
    shape=lambda x, y, dy: (x,),
    example=Example({"X": np.array([[[[1.0]]]], np.float32), "Y": np.array([[[[0.5]]]], np.float32),
                     "dY": np.array([[[[1.0]]]], np.float32)},
                    {"dX": np.array([[[[0.0]]]], np.float32)},
                    {"size": 1, "alpha": 1.0, "beta": 1.0, "bias": 1.0}),
    doc="""Gradient of LRN: dX[c] = dY[c] * scale[c]^-beta - 2 * alpha * beta / size * X[c] *
sum of dY[c'] * Y[c'] / scale[c'] over the channels c' whose window holds c.""",
)
def lrn_gradient(x, y, dy, *, size, alpha, beta, bias, order):
    """dX of LRN (the scale is recomputed from X)."""
    _check(x, order)
    cp.check_float(y, "Y", x.dtype)
    cp.check_float(dy, "dY", x.dtype)
    for name, a in (("Y", y), ("dY", dy)):
        enforce_cmp(a.shape == x.shape, f"{name}.sizes() == X.sizes()", dims(a.shape),
                    dims(x.shape), blob=name)
    scale = _scale(x, size, alpha, bias, order)
    axis = 1 if order == "NCHW" else x.ndim - 1
    pre = (size - 1) // 2
    ratio = dy * y / scale
    # c' holds c in its window when c' - pre <= c <= c' + size - pre - 1.
    back = _window_sum(ratio, axis, size - pre - 1, pre)
    t = x.dtype.type
    dx = dy * np.power(scale, -t(beta)) - t(2 * alpha * beta / size) * x * back
    return (dx.astype(x.dtype),)


gradient_not_implemented_yet("LRNGradient")
