"""Mish (Y = X * tanh(softplus(X))) and its gradient op MishGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import enforce_cmp, float_tensor
from ._activation import float_input


def _softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.logaddexp(x, x.dtype.type(0))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


@register_cpu_operator(
    "Mish",
    inputs=["X"],
    outputs=["Y"],
    shape=same_as_input(0),
    example=Example({"X": np.array([-1.0, 0.0, 2.0], np.float32)},
                    {"Y": np.array([-0.30340147, 0.0, 1.9439589], np.float32)}),
    doc="""Mish, element-wise: Y = X * tanh(log(1 + exp(X))). Y has X's shape and type
(float32 or float64). Not in place. (Caffe2 evaluated the tanh through exp(X) and
gave NaN where exp(X) overflows, X > 88 in float32; here Y = X there.)

Example: X=[-1, 0, 2] -> Y=[-0.303401, 0, 1.943959]""",
)
def mish(x: np.ndarray) -> tuple:
    """X * tanh(softplus(X))."""
    dtype = float_input(x)
    return (np.asarray(x * np.tanh(_softplus(x)), dtype),)


@register_gradient("Mish")
def mish_gradient_maker(g):
    """``MishGradient([X, Y, dY]) -> [X_grad]``."""
    return [g.op_def("MishGradient", [g.I(0), g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "MishGradient",
    inputs=["X", "Y", "dY"],
    outputs=["dX"],
    allow_inplace=[(2, 0)],
    shape=same_as_input(1),
    example=Example({"X": np.array([0.0, 2.0], np.float32),
                     "Y": np.array([0.0, 1.9439589], np.float32),
                     "dY": np.array([1.0, 2.0], np.float32)},
                    {"dX": np.array([0.6, 2.1386359], np.float32)}),
    doc="""Gradient of Mish from its input: dX = dY * (tanh(sp) + X * sigmoid(X) *
(1 - tanh(sp)^2)) with sp = log(1 + exp(X)) (Y is read only for its size). X, Y and
dY must have as many elements and one type; dX has Y's shape. dY may be overwritten
in place. (Caffe2's formula went through exp(3X) and gave NaN for X > 29 in float32.)

Example: X=[0, 2], Y=[0, 1.943959], dY=[1, 2] -> dX=[0.6, 2.138636]""",
)
def mish_gradient(x: np.ndarray, y: np.ndarray, dy: np.ndarray) -> tuple:
    """The derivative of X * tanh(softplus(X)), written without large exponentials."""
    dtype = float_input(x)
    float_tensor(y, "Y", dtype)
    float_tensor(dy, "dY", dtype)
    enforce_cmp(x.size == y.size, "Xin.numel() == Yin.numel()", x.size, y.size, blob="Y")
    enforce_cmp(dy.size == y.size, "DYin.numel() == Yin.numel()", dy.size, y.size, blob="dY")
    xs, dys = x.reshape(y.shape), dy.reshape(y.shape)
    t = np.tanh(_softplus(xs))
    dx = dys * (t + xs * _sigmoid(xs) * (1 - t * t))
    return (np.asarray(dx, dtype),)


gradient_not_implemented_yet("MishGradient")
