"""HardSigmoid (Y = max(0, min(1, alpha * X + beta))) and its gradient op
HardSigmoidGradient."""

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

from ._activation import float_input, same_sizes


@register_cpu_operator(
    "HardSigmoid",
    inputs=["X"],
    outputs=["Y"],
    args=[Arg("alpha", float, 0.2, doc="the slope"), Arg("beta", float, 0.5, doc="the bias")],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=pointwise_cost(4),
    example=Example({"X": np.array([-3.0, 0.0, 1.0, 4.0], np.float32)},
                    {"Y": np.array([0.0, 0.5, 0.7, 1.0], np.float32)}),
    doc="""Hard sigmoid, element-wise: Y = max(0, min(1, alpha * X + beta)) with alpha
0.2 and beta 0.5 by default. Y has X's shape and type (float32 or float64);
in-place use is allowed.

Example: X=[-3, 0, 1, 4] -> Y=[0, 0.5, 0.7, 1]""",
)
def hard_sigmoid(x: np.ndarray, *, alpha: float, beta: float) -> tuple:
    """alpha * X + beta clipped to [0, 1]."""
    dtype = float_input(x)
    y = x * dtype.type(alpha)
    y += dtype.type(beta)
    y = np.maximum(np.minimum(y, dtype.type(1)), dtype.type(0))
    return (np.asarray(y, dtype),)


@register_gradient("HardSigmoid")
def hard_sigmoid_gradient_maker(g):
    """``HardSigmoidGradient([Y, dY]) -> [X_grad]`` (alpha and beta ride along)."""
    return [g.op_def("HardSigmoidGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "HardSigmoidGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=[Arg("alpha", float, 0.2, doc="the forward slope")],
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": np.array([0.0, 0.5, 1.0], np.float32),
                     "dY": np.array([1.0, 2.0, 3.0], np.float32)},
                    {"dX": np.array([0.0, 0.4, 0.0], np.float32)}),
    doc="""Gradient of HardSigmoid from its output: dX = alpha * dY where 0 < Y < 1,
else 0. dY may be overwritten in place.

Example: Y=[0, 0.5, 1], dY=[1, 2, 3] -> dX=[0, 0.4, 0]""",
)
def hard_sigmoid_gradient(y: np.ndarray, dy: np.ndarray, *, alpha: float) -> tuple:
    """alpha * dY inside the linear part."""
    dtype = same_sizes(y, dy, "Y", "dY")
    inside = (y > 0) & (y < 1)
    return (np.asarray(np.where(inside, dy * dtype.type(alpha), dtype.type(0)), dtype),)


gradient_not_implemented_yet("HardSigmoidGradient")
