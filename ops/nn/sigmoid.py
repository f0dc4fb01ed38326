"""Sigmoid (Y = 1 / (1 + exp(-X))) and its gradient op SigmoidGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from .._dense import dispatch, dims, enforce_that, float_tensor


@register_cpu_operator(
    "Sigmoid",
    inputs=["X"],
    outputs=["Y"],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example(
        {"X": np.array([0, 2], np.float32)},
        {"Y": np.array([0.5, 0.880797], np.float32)},
    ),
    doc="""Logistic sigmoid, element-wise: Y = 1 / (1 + exp(-X)), same shape and type as
X (float32 or float64). In-place use is allowed.

Example: X=[0, 2] -> Y=[0.5, 0.880797]""",
)
def sigmoid(x: np.ndarray) -> tuple:
    """1 / (1 + exp(-X)); exp overflows to inf for very negative X, giving 0."""
    dispatch(x, "X")
    # np.negative gives a scalar for a 0-d X, so that one gets an explicit output
    y = np.negative(x) if x.ndim else np.negative(x, out=np.empty_like(x))
    with np.errstate(over="ignore"):
        np.exp(y, out=y)
    y += 1
    np.reciprocal(y, out=y)
    return (y,)


@register_gradient("Sigmoid")
def sigmoid_gradient_maker(g):
    """``SigmoidGradient([Y, dY]) -> [X_grad]``."""
    return [g.op_def("SigmoidGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "SigmoidGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example(
        {"Y": np.array([0.5, 0.25], np.float32), "dY": np.array([1, 2], np.float32)},
        {"dX": np.array([0.25, 0.375], np.float32)},
    ),
    doc="""Gradient of Sigmoid from its output: dX = dY * Y * (1 - Y).

Example: Y=[0.5, 0.25], dY=[1, 2] -> dX=[0.25, 0.375]""",
)
def sigmoid_gradient(y: np.ndarray, dy: np.ndarray) -> tuple:
    """dY * Y * (1 - Y)."""
    dtype = dispatch(y, "Y")
    float_tensor(dy, "dY", dtype)
    if y.shape != dy.shape:
        enforce_that(
            False,
            "Y.sizes() == dY.sizes()",
            blob="dY",
            expected=f"Y's shape {dims(y.shape)}",
            found=dims(dy.shape),
        )
    dx = np.multiply(dy, y, out=np.empty_like(y))
    dx *= 1 - y
    return (dx,)


gradient_not_implemented_yet("SigmoidGradient")
