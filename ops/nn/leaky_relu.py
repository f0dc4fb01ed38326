"""LeakyRelu (Y = X for X >= 0, alpha * X otherwise) and its gradient op
LeakyReluGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import pointwise_cost, same_as_input

from ._activation import float_input, same_numel

_ALPHA = [Arg("alpha", float, 0.01, doc="the slope for negative inputs")]


@register_cpu_operator(
    "LeakyRelu",
    inputs=["X"],
    outputs=["Y"],
    args=_ALPHA,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=pointwise_cost(2),
    example=Example({"X": np.array([-2.0, -0.5, 0.0, 3.0], np.float32)},
                    {"Y": np.array([-0.2, -0.05, 0.0, 3.0], np.float32)},
                    {"alpha": 0.1}),
    doc="""Leaky rectified linear unit, element-wise: Y = X where X >= 0 and
Y = alpha * X where X < 0 (alpha defaults to 0.01). Y has X's shape and type
(float32 or float64); in-place use (Y = X) is allowed.

Example: X=[-2, -0.5, 0, 3] with alpha=0.1 -> Y=[-0.2, -0.05, 0, 3]""",
)
def leaky_relu(x: np.ndarray, *, alpha: float) -> tuple:
    """max(X, 0) + alpha * min(X, 0)."""
    dtype = float_input(x)
    y = np.minimum(x, dtype.type(0))
    y *= dtype.type(alpha)
    y += np.maximum(x, dtype.type(0))
    return (np.asarray(y, dtype),)


@register_gradient("LeakyRelu")
def leaky_relu_gradient_maker(g):
    """``LeakyReluGradient([Y, dY]) -> [X_grad]`` (alpha rides along)."""
    return [g.op_def("LeakyReluGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "LeakyReluGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_ALPHA,
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": np.array([-0.2, 0.0, 3.0], np.float32),
                     "dY": np.array([1.0, 2.0, 3.0], np.float32)},
                    {"dX": np.array([0.1, 2.0, 3.0], np.float32)}, {"alpha": 0.1}),
    doc="""Gradient of LeakyRelu from its output: dX = dY where Y >= 0, alpha * dY
where Y < 0. Y and dY must have as many elements (paired by position); dX has Y's
shape. dY may be overwritten in place (dX = dY).

Example: Y=[-0.2, 0, 3], dY=[1, 2, 3] with alpha=0.1 -> dX=[0.1, 2, 3]""",
)
def leaky_relu_gradient(y: np.ndarray, dy: np.ndarray, *, alpha: float) -> tuple:
    """dY scaled by alpha where the output is negative."""
    dtype = float_input(y, "Y")
    dy = same_numel(y, dy, "Y", "dY", "Y.numel() == dY.numel()")
    dx = np.where(y >= 0, dy, dy * dtype.type(alpha))
    return (np.asarray(dx, dtype),)


gradient_not_implemented_yet("LeakyReluGradient")
