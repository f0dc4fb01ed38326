"""ElementwiseLinear (Y = X * w + b, w and b broadcast along the rows of X) and its
gradient op ElementwiseLinearGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape, same_as_input

from .._dense import (
    canonical_axis,
    dims,
    enforce_cmp,
    enforce_that,
    float_tensor,
    size_from,
    size_to,
)

_AXIS = [Arg("axis", int, 1, doc="X is read as a matrix (N x D) split at this axis")]


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


def _rows(x: np.ndarray, w: np.ndarray, axis: int) -> tuple[int, int]:
    """(N, D), X read as a matrix at ``axis``, after checking that w is a vector of D."""
    ax = canonical_axis(axis, x.ndim)
    n, d = size_to(x.shape, ax), size_from(x.shape, ax)
    enforce_cmp(w.ndim == 1, "a.dim() == 1", w.ndim, 1, str(w.ndim), blob="w")
    enforce_cmp(w.shape[0] == d, "a.size(0) == D", w.shape[0], d, str(w.ndim), blob="w")
    return n, d


@register_cpu_operator(
    "ElementwiseLinear",
    inputs=["X", "w", "b"],
    outputs=["Y"],
    args=_AXIS,
    shape=same_as_input(0),
    example=Example({"X": _f([[1, 2, 3], [4, 5, 6]]), "w": _f([1, 0, -1]),
                     "b": _f([0.5, 1, 2])}, {"Y": _f([[1.5, 1, -1], [4.5, 1, -4]])}),
    doc="""Y = X * w + b with X read as an N x D matrix (split at ``axis``, default 1): row n
of Y is X_n * w + b element by element, for w and b vectors of length D. Y has X's
shape and type (float32 or float64; w and b of X's type).""",
)
def elementwise_linear(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, axis: int) -> tuple:
    """X * w + b on the (N x D) view."""
    dtype = float_tensor(x, "X")
    float_tensor(w, "w", dtype)
    float_tensor(b, "b", dtype)
    n, d = _rows(x, w, axis)
    enforce_cmp(b.ndim == 1, "b.dim() == 1", b.ndim, 1, str(b.ndim), blob="b")
    enforce_cmp(b.shape[0] == d, "b.size(0) == D", b.shape[0], d, str(b.ndim), blob="b")
    return (np.asarray(x.reshape(n, d) * w + b, dtype).reshape(x.shape),)


@register_gradient("ElementwiseLinear")
def elementwise_linear_gradient_maker(g):
    """``ElementwiseLinearGradient([Y_grad, X, w]) -> [X_grad, w_grad, b_grad]``."""
    return [g.op_def("ElementwiseLinearGradient", [g.GO(0), g.I(0), g.I(1)],
                     [g.GI(0), g.GI(1), g.GI(2)])]


def _gradient_shape(dy: TensorShape, x: TensorShape, w: TensorShape):
    """dX like X, dw and db like w."""
    return (x, w, w)


@register_cpu_operator(
    "ElementwiseLinearGradient",
    inputs=["dY", "X", "w"],
    outputs=["dX", "dw", "db"],
    args=_AXIS,
    shape=_gradient_shape,
    example=Example({"dY": _f([[1, 1, 1], [2, 0, 1]]), "X": _f([[1, 2, 3], [4, 5, 6]]),
                     "w": _f([1, 0, -1])},
                    {"dX": _f([[1, 0, -1], [2, 0, -1]]), "dw": _f([9, 2, 9]),
                     "db": _f([3, 1, 2])}),
    doc="""Gradient of ElementwiseLinear: dX = dY * w row by row, dw = the column sums of
dY * X, db = the column sums of dY (X read as N x D at ``axis``; dY has X's shape).""",
)
def elementwise_linear_gradient(dy: np.ndarray, x: np.ndarray, w: np.ndarray, *,
                                axis: int) -> tuple:
    """(dX, dw, db) on the (N x D) view."""
    dtype = float_tensor(x, "X")
    float_tensor(dy, "dY", dtype)
    float_tensor(w, "w", dtype)
    n, d = _rows(x, w, axis)
    if dy.shape != x.shape:
        enforce_that(False, "dY.sizes() == X.sizes()", blob="dY",
                     expected=f"X's shape {dims(x.shape)}", found=dims(dy.shape))
    g, xm = dy.reshape(n, d), x.reshape(n, d)
    dx = np.asarray(g * w, dtype).reshape(x.shape)
    dw = np.asarray(np.sum(g * xm, axis=0, dtype=dtype), dtype)
    db = np.asarray(np.sum(g, axis=0, dtype=dtype), dtype)
    return (dx, dw, db)


gradient_not_implemented_yet("ElementwiseLinearGradient")
