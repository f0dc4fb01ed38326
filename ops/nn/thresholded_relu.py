"""ThresholdedRelu (Y = X where X > alpha, else 0) and its gradient op
ThresholdedReluGradient."""

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
from caffe2lite.schema.shapes import pointwise_cost, same_as_input

from .._dense import FLOATS, enforce_cmp

_ALPHA = [Arg("alpha", float, 1.0, doc="the threshold")]


@register_cpu_operator(
    "ThresholdedRelu",
    inputs=["X"],
    outputs=["Y"],
    args=_ALPHA,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=pointwise_cost(2),
    example=Example({"X": np.array([-1.0, 1.0, 1.5, 3.0], np.float32)},
                    {"Y": np.array([0.0, 0.0, 1.5, 3.0], np.float32)}),
    doc="""Element-wise Y = X where X > alpha (default 1), 0 elsewhere (NaN gives 0).
X is float32 as in Caffe2 (float64 too, so gradients can be checked in double
precision); Y has X's shape and type and may overwrite it.

Example: X=[-1, 1, 1.5, 3] -> Y=[0, 0, 1.5, 3]""",
)
def thresholded_relu(x: np.ndarray, *, alpha: float) -> tuple:
    """select(X > alpha, X, 0) with alpha held as a float, as in Caffe2."""
    check_dtype(x, "X", *FLOATS)
    threshold = x.dtype.type(np.float32(alpha))
    return (np.where(x > threshold, x, x.dtype.type(0)),)


@register_gradient("ThresholdedRelu")
def thresholded_relu_gradient_maker(g):
    """``ThresholdedReluGradient([Y, Y_grad]) -> [X_grad]``."""
    return [g.op_def("ThresholdedReluGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "ThresholdedReluGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_ALPHA,
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": np.array([0.0, 1.5, -0.5], np.float32),
                     "dY": np.array([2.0, 3.0, 4.0], np.float32)},
                    {"dX": np.array([0.0, 3.0, -4.0], np.float32)}),
    doc="""Gradient of ThresholdedRelu from its output, as Caffe2 computed it: dX = dY *
sign(Y) (sign 0 for 0 and NaN), so a kept negative Y (alpha below 0) flips dY's sign,
as it did in Caffe2. dY must have Y's number of elements; dX has Y's shape and may
overwrite dY.

Example: Y=[0, 1.5, -0.5], dY=[2, 3, 4] -> dX=[0, 3, -4]""",
)
def thresholded_relu_gradient(y: np.ndarray, dy: np.ndarray, *, alpha: float) -> tuple:
    """dY * cwiseSign(Y)."""
    check_dtype(y, "Y", *FLOATS)
    check_dtype(dy, "dY", y.dtype)
    enforce_cmp(dy.size == y.size, "dY.numel() == Y.numel()", dy.size, y.size, blob="dY")
    sign = (y > 0).astype(y.dtype) - (y < 0).astype(y.dtype)
    return (np.asarray(dy.reshape(y.shape) * sign, y.dtype),)


gradient_not_implemented_yet("ThresholdedReluGradient")
