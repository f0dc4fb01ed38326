"""Selu (scaled exponential linear unit) and its gradient op SeluGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import FLOATS, enforce_cmp

_ARGS = [
    Arg("alpha", float, 1.6732632423543772848170429916717,
        doc="the scale of exp(X) - 1 on the negative part"),
    Arg("scale", float, 1.0507009873554804934193349852946,
        doc="the overall scale (the paper's lambda); must be > 1",
        check=lambda v: np.float32(v) > 1.0, check_message="lambda_ > 1.0",
        expected="scale > 1.0"),
]


def _constants(dtype: np.dtype, alpha: float, scale: float) -> tuple:
    """alpha and scale as Caffe2 held them (float), in the data's type."""
    return dtype.type(np.float32(alpha)), dtype.type(np.float32(scale))


@register_cpu_operator(
    "Selu",
    inputs=["X"],
    outputs=["Y"],
    args=_ARGS,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": np.array([-1.0, 0.0, 2.0], np.float32)},
                    {"Y": np.array([-1.1113307, 0.0, 2.101402], np.float32)}),
    doc="""Scaled exponential linear unit, element-wise: Y = scale * X where X > 0 and
Y = scale * (alpha * exp(X) - alpha) elsewhere (alpha 1.6732632..., scale 1.0507009...
by default; scale must be above 1). X is float32 as in Caffe2 (float64 too, so
gradients can be checked in double precision); Y has X's shape and type and may
overwrite it.

Example: X=[-1, 0, 2] -> Y=[-1.1113307, 0, 2.101402]""",
)
def selu(x: np.ndarray, *, alpha: float, scale: float) -> tuple:
    """Caffe2's lambda * select(X > 0, X, alpha * exp(X) - alpha)."""
    check_dtype(x, "X", *FLOATS)
    a, lam = _constants(x.dtype, alpha, scale)
    with np.errstate(over="ignore"):  # exp of a large positive X is not selected
        neg = a * np.exp(x) - a
    return (np.asarray(lam * np.where(x > 0, x, neg), x.dtype),)


@register_gradient("Selu")
def selu_gradient_maker(g):
    """``SeluGradient([Y, Y_grad]) -> [X_grad]``: the gradient reads the output."""
    return [g.op_def("SeluGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "SeluGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_ARGS,
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": np.array([-1.0, 0.0, 2.0], np.float32),
                     "dY": np.array([2.0, 3.0, 4.0], np.float32)},
                    {"dX": np.array([1.5161986, 5.2742977, 4.202804], np.float32)}),
    doc="""Gradient of Selu from its output: dX = scale * dY where Y > 0, else
dY * (Y + scale * alpha). dY must have Y's number of elements; dX has Y's shape, and
may overwrite dY.

Example: Y=[-1, 0, 2], dY=[2, 3, 4] (default alpha, scale) -> dX=[1.5161986,
5.2742977, 4.202804]""",
)
def selu_gradient(y: np.ndarray, dy: np.ndarray, *, alpha: float, scale: float) -> tuple:
    """Caffe2's select(Y > 0, lambda * dY, dY * (Y + lambda * alpha))."""
    check_dtype(y, "Y", *FLOATS)
    check_dtype(dy, "dY", y.dtype)
    enforce_cmp(dy.size == y.size, "dY.numel() == Y.numel()", dy.size, y.size, blob="dY")
    a, lam = _constants(y.dtype, alpha, scale)
    g = dy.reshape(y.shape)
    return (np.asarray(np.where(y > 0, lam * g, g * (y + lam * a)), y.dtype),)


gradient_not_implemented_yet("SeluGradient")
