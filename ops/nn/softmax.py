"""Softmax over the dimensions from ``axis`` on, and its gradient op SoftmaxGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from .._dense import (
    canonical_axis,
    dims,
    enforce_that,
    float_tensor,
    size_from,
    size_to,
)

_AXIS = [Arg("axis", int, 1, doc="X is read as a matrix (N x D) split at this axis")]


def _rows(x: np.ndarray, axis: int) -> np.ndarray:
    ax = canonical_axis(axis, x.ndim)
    return x.reshape(size_to(x.shape, ax), size_from(x.shape, ax))


@register_cpu_operator(
    "Softmax",
    inputs=["X"],
    outputs=["Y"],
    args=_AXIS,
    shape=same_as_input(0),
    example=Example(
        {"X": np.array([[1, 2, 3]], np.float32)},
        {"Y": np.array([[0.090031, 0.244728, 0.665241]], np.float32)},
        rtol=1e-5,
    ),
    doc="""Softmax of each row of X read as a matrix (N x D), N = product of the
dimensions before ``axis`` and D of the rest: Y = exp(X - max) / sum(exp(X - max)).
Y has X's shape and type (float32 or float64).

Example: X=[[1, 2, 3]] -> Y=[[0.090031, 0.244728, 0.665241]]""",
)
def softmax(x: np.ndarray, *, axis: int) -> tuple:
    """Row-wise softmax, shifted by the row maximum for stability."""
    float_tensor(x, "X")
    rows = _rows(x, axis)
    if rows.size == 0:
        return (np.empty_like(x),)
    y = rows - rows.max(axis=1, keepdims=True)
    np.exp(y, out=y)
    y /= y.sum(axis=1, keepdims=True)
    return (y.reshape(x.shape),)


@register_gradient("Softmax")
def softmax_gradient_maker(g):
    """``SoftmaxGradient([Y, dY]) -> [X_grad]``."""
    return [g.op_def("SoftmaxGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "SoftmaxGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_AXIS,
    shape=same_as_input(0),
    example=Example(
        {"Y": np.array([[0.5, 0.5]], np.float32), "dY": np.array([[1, 0]], np.float32)},
        {"dX": np.array([[0.25, -0.25]], np.float32)},
    ),
    doc="""Gradient of Softmax from its output, row by row: dX = Y * (dY - sum(Y * dY)).

Example: Y=[[0.5, 0.5]], dY=[[1, 0]] -> dX=[[0.25, -0.25]]""",
)
def softmax_gradient(y: np.ndarray, dy: np.ndarray, *, axis: int) -> tuple:
    """Y * (dY - <Y, dY>) per row."""
    dtype = float_tensor(y, "Y")
    float_tensor(dy, "dY", dtype)
    enforce_that(
        y.shape == dy.shape,
        "Y.sizes() == dY.sizes()",
        blob="dY",
        expected=f"Y's shape {dims(y.shape)}",
        found=dims(dy.shape),
    )
    y2 = _rows(y, axis)
    dy2 = dy.reshape(y2.shape)
    dx = dy2 - np.einsum("ij,ij->i", y2, dy2)[:, None]
    dx *= y2
    return (dx.reshape(y.shape),)


gradient_not_implemented_yet("SoftmaxGradient")
