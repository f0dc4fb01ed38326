"""Swish (Y = X * sigmoid(X)) and its gradient op SwishGradient."""

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


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow warnings (exp(-x) = inf gives 0)."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


@register_cpu_operator(
    "Swish",
    inputs=["X"],
    outputs=["Y"],
    shape=same_as_input(0),
    example=Example({"X": np.array([-1.0, 0.0, 2.0], np.float32)},
                    {"Y": np.array([-0.2689414, 0.0, 1.761594], np.float32)}),
    doc="""Swish (SiLU), element-wise: Y = X / (1 + exp(-X)). Y has X's shape and
type (float32 or float64). Not in place.

Example: X=[-1, 0, 2] -> Y=[-0.268941, 0, 1.761594]""",
)
def swish(x: np.ndarray) -> tuple:
    """X * sigmoid(X)."""
    dtype = float_input(x)
    return (np.asarray(x * sigmoid(x), dtype),)


@register_gradient("Swish")
def swish_gradient_maker(g):
    """``SwishGradient([X, Y, dY]) -> [X_grad]``."""
    return [g.op_def("SwishGradient", [g.I(0), g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "SwishGradient",
    inputs=["X", "Y", "dY"],
    outputs=["dX"],
    allow_inplace=[(2, 0)],
    shape=same_as_input(1),
    example=Example({"X": np.array([0.0, 2.0], np.float32),
                     "Y": np.array([0.0, 1.761594], np.float32),
                     "dY": np.array([1.0, 2.0], np.float32)},
                    {"dX": np.array([0.5, 2.1815686], np.float32)}),
    doc="""Gradient of Swish: dX = dY * (Y + sigmoid(X) * (1 - Y)). X, Y and dY must
have as many elements (paired by position) and one type; dX has Y's shape. dY may be
overwritten in place.

Example: X=[0, 2], Y=[0, 1.761594], dY=[1, 2] -> dX=[0.5, 2.181569]""",
)
def swish_gradient(x: np.ndarray, y: np.ndarray, dy: np.ndarray) -> tuple:
    """d/dx x*s(x) = s + x*s*(1-s) = y + s*(1-y)."""
    dtype = float_input(x)
    float_tensor(y, "Y", dtype)
    float_tensor(dy, "dY", dtype)
    enforce_cmp(x.size == y.size, "Xin.numel() == Yin.numel()", x.size, y.size, blob="Y")
    enforce_cmp(dy.size == y.size, "DYin.numel() == Yin.numel()", dy.size, y.size, blob="dY")
    xs, dys = x.reshape(y.shape), dy.reshape(y.shape)
    dx = dys * (y + sigmoid(xs) * (1 - y))
    return (np.asarray(dx, dtype),)


gradient_not_implemented_yet("SwishGradient")
