"""Elu (exponential linear unit) and its gradient op EluGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from ._activation import float_input, same_sizes

_ALPHA = [Arg("alpha", float, 1.0, doc="the scale of the negative part")]


@register_cpu_operator(
    "Elu",
    inputs=["X"],
    outputs=["Y"],
    args=_ALPHA,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": np.array([-1.0, 0.0, 2.0], np.float32)},
                    {"Y": np.array([-0.63212055, 0.0, 2.0], np.float32)}),
    doc="""Exponential linear unit, element-wise: Y = alpha * (exp(X) - 1) where X < 0
and Y = X elsewhere (alpha defaults to 1). Y has X's shape and type (float32 or
float64); in-place use is allowed.

Example: X=[-1, 0, 2] -> Y=[-0.632121, 0, 2]""",
)
def elu(x: np.ndarray, *, alpha: float) -> tuple:
    """alpha * expm1(X) on the negative part."""
    dtype = float_input(x)
    neg = np.minimum(x, dtype.type(0))  # exp of a non-positive value never overflows
    y = np.where(x < 0, dtype.type(alpha) * np.expm1(neg), x)
    return (np.asarray(y, dtype),)


@register_gradient("Elu")
def elu_gradient_maker(g):
    """``EluGradient([Y, dY]) -> [X_grad]``: the gradient reads the forward output."""
    return [g.op_def("EluGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "EluGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_ALPHA,
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": np.array([-0.5, 0.0, 2.0], np.float32),
                     "dY": np.array([2.0, 3.0, 4.0], np.float32)},
                    {"dX": np.array([1.0, 3.0, 4.0], np.float32)}),
    doc="""Gradient of Elu from its output: dX = dY * (Y + alpha) where Y < 0, dY
elsewhere. Y and dY have one shape and type; dY may be overwritten in place.

Example: Y=[-0.5, 0, 2], dY=[2, 3, 4] -> dX=[1, 3, 4]""",
)
def elu_gradient(y: np.ndarray, dy: np.ndarray, *, alpha: float) -> tuple:
    """d/dx alpha*(e^x - 1) = alpha*e^x = Y + alpha on the negative part."""
    dtype = same_sizes(y, dy, "Y", "dY")
    dx = np.where(y < 0, dy * (y + dtype.type(alpha)), dy)
    return (np.asarray(dx, dtype),)


gradient_not_implemented_yet("EluGradient")
