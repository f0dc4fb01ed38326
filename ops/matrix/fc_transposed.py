"""FCTransposed (fully connected with the weight stored K x N: Y = X·W + b) and its
gradient op FCTransposedGradient.

X is read as a matrix (M x K) by flattening it at ``axis``; W as a matrix (K x N) by
flattening it at ``axis_w`` (N is the product of W's dimensions from ``axis_w`` on).
``Y.shape == X.shape[:axis] + (N,)``.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import Cost, TensorShape, dim_product, nbytes
from caffe2lite.schema.shapes import canonical_axis as shape_axis
from .._dense import canonical_axis, dims, enforce_that, float_tensor, size_from, size_to

_ARGS = [
    Arg("axis", int, 1, doc="X is flattened to a matrix at this axis"),
    Arg("axis_w", int, 1, doc="W is flattened to a (K x N) matrix at this axis"),
]


def _mnk(x: np.ndarray, w: np.ndarray, axis: int, axis_w: int) -> tuple[int, int, int, int]:
    """(canonical axis, M, N, K): N counts W's columns (``size_from_dim(axis_w)``)."""
    ax = canonical_axis(axis, x.ndim)
    ax_w = canonical_axis(axis_w, w.ndim, "axis_w")
    return ax, size_to(x.shape, ax), size_from(w.shape, ax_w), size_from(x.shape, ax)


def _why(x, w, third: str, t, axis, m, n, k) -> str:
    return (f"Dimension mismatch: X: {dims(x.shape)}, W: {dims(w.shape)}, {third}: "
            f"{dims(t.shape)}, axis: {axis}, M: {m}, N: {n}, K: {k}")


def _shape(x: TensorShape, w: TensorShape, b: TensorShape, *, axis: int,
           axis_w: int) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    ax = shape_axis(axis, len(x.dims))
    if w.dims is not None:
        n = dim_product(w.dims[shape_axis(axis_w, len(w.dims)):])
    elif b.dims is not None and len(b.dims) == 1:
        n = b.dims[0]
    else:
        n = "N"
    return (TensorShape(tuple(x.dims[:ax]) + (n,), x.dtype),)


def _cost(x: TensorShape, w: TensorShape, b: TensorShape, *, axis: int, axis_w: int,
          outputs) -> Cost:
    """Caffe2's CostInferenceForFC: M·N·(2K + 1) flops; W and b are parameters."""
    if not (x.known and w.known and b.known):
        return Cost()
    ax = shape_axis(axis, len(x.dims))
    m, k = dim_product(x.dims[:ax]), dim_product(x.dims[ax:])
    n = dim_product(w.dims[shape_axis(axis_w, len(w.dims)):])
    return Cost(flops=m * n * (2 * k + 1), bytes_read=nbytes(x) + nbytes(w) + nbytes(b),
                bytes_written=nbytes(outputs[0]), params_bytes=nbytes(w) + nbytes(b))


@register_cpu_operator(
    "FCTransposed",
    inputs=["X", "W", "b"],
    outputs=["Y"],
    args=_ARGS,
    shape=_shape,
    cost=_cost,
    example=Example(
        {"X": np.array([[1, 2, 3]], np.float32),
         "W": np.array([[1, 0], [0, 1], [1, 0]], np.float32),
         "b": np.array([0.5, -1], np.float32)},
        {"Y": np.array([[4.5, 1]], np.float32)}),
    doc="""Fully connected layer with the weight already transposed: Y = X·W + b, with X
flattened to (M x K) at ``axis``, W (K x N) flattened at ``axis_w`` (N = product of W's
dimensions from ``axis_w`` on) and b of length N. Y has shape X.shape[:axis] + (N,).
Float32 or float64; W and b must have X's type.

Example: X=[[1, 2, 3]], W=[[1, 0], [0, 1], [1, 0]], b=[0.5, -1] -> Y=[[4.5, 1]]""",
)
def fc_transposed(x: np.ndarray, w: np.ndarray, b: np.ndarray, *, axis: int,
                  axis_w: int) -> tuple:
    """Y = X·W + b on the flattened views."""
    dtype = float_tensor(x, "X")
    float_tensor(w, "W", dtype)
    float_tensor(b, "b", dtype)
    enforce_that(b.ndim == 1, f"b.dim() == 1. {b.ndim}", blob="b", expected="a 1-D bias",
                 found=f"{b.ndim}-D shape {dims(b.shape)}")
    ax, m, n, k = _mnk(x, w, axis, axis_w)
    why = _why(x, w, "b", b, axis, m, n, k)
    # W.numel() / N is the product of W's dimensions before axis_w (no division by 0)
    rows_w = size_to(w.shape, canonical_axis(axis_w, w.ndim, "axis_w"))
    enforce_that(k == rows_w, "K == W.numel() / N", why, blob="W", expected=f"W of {k} x {n}",
                 found=dims(w.shape))
    enforce_that(n == b.shape[0], "N == b.dim32(0)", why, blob="b", expected=f"{n} biases",
                 found=b.shape[0])
    y = x.reshape(m, k) @ w.reshape(k, n)
    y += b
    return (y.reshape(x.shape[:ax] + (n,)),)


@register_gradient("FCTransposed")
def fc_transposed_gradient_maker(g):
    """``FCTransposedGradient([X, W, dY]) -> [W_grad, b_grad, X_grad]``."""
    return [g.op_def("FCTransposedGradient", [g.I(0), g.I(1), g.GO(0)],
                     [g.GI(1), g.GI(2), g.GI(0)])]


def _gradient_shape(x: TensorShape, w: TensorShape, dy: TensorShape, *, axis: int,
                    axis_w: int, num_outputs: int = 3) -> tuple[TensorShape, ...]:
    if w.dims is None:
        n: object = "N"
    else:
        n = dim_product(w.dims[shape_axis(axis_w, len(w.dims)):])
    out = (w, TensorShape((n,), x.dtype), x)
    return out[:num_outputs]


def _gradient_cost(x: TensorShape, w: TensorShape, dy: TensorShape, *, axis: int,
                   axis_w: int, outputs) -> Cost:
    """Caffe2's CostInferenceForFCGradient: M·N·(2K + 1) flops, 2·M·N·K more for dX;
    the outputs written; W and b's sizes as parameters. (Caffe2 bound it with FC's
    weight layout for FCTransposedGradient too, counting N as W's rows; the layout of
    this op, N = W's columns, is used here, as in the shape function.)"""
    if not (x.known and w.known):
        return Cost()
    ax = shape_axis(axis, len(x.dims))
    m, k = dim_product(x.dims[:ax]), dim_product(x.dims[ax:])
    n = dim_product(w.dims[shape_axis(axis_w, len(w.dims)):])
    item = (x.dtype or np.dtype(np.float32)).itemsize
    flops = m * n * (2 * k + 1) + (2 * m * n * k if len(outputs) == 3 else 0)
    return Cost(flops=flops, bytes_written=sum(nbytes(o) for o in outputs),
                params_bytes=(k * n + n) * item)


@register_cpu_operator(
    "FCTransposedGradient",
    inputs=["X", "W", "dY"],
    outputs=["dW", "db", "dX"],
    num_outputs=(2, 3),
    args=_ARGS,
    shape=_gradient_shape,
    cost=_gradient_cost,
    example=Example(
        {"X": np.array([[1, 2]], np.float32), "W": np.array([[3], [4]], np.float32),
         "dY": np.array([[2]], np.float32)},
        {"dW": np.array([[2], [4]], np.float32), "db": np.array([2], np.float32),
         "dX": np.array([[6, 8]], np.float32)}),
    doc="""Gradient of FCTransposed: dW = Xᵀ·dY (W's shape, K x N), db = column sums of
dY (N,), and, when a third output is asked for, dX = dY·Wᵀ (X's shape), all on the
flattened views.

Example: X=[[1, 2]], W=[[3], [4]], dY=[[2]] -> dW=[[2], [4]], db=[2], dX=[[6, 8]]""",
)
def fc_transposed_gradient(x: np.ndarray, w: np.ndarray, dy: np.ndarray, *, axis: int,
                           axis_w: int, num_outputs: int) -> tuple:
    """dW, db and (with three outputs) dX."""
    dtype = float_tensor(x, "X")
    float_tensor(w, "W", dtype)
    float_tensor(dy, "dY", dtype)
    _, m, n, k = _mnk(x, w, axis, axis_w)
    why = _why(x, w, "dY", dy, axis, m, n, k)
    enforce_that(k * n == w.size, "K * N == W.numel()", why, blob="W",
                 expected=f"W of {k} x {n}", found=dims(w.shape))
    enforce_that(dy.size == m * n, "dY.numel() == M * N", why, blob="dY",
                 expected=f"{m} x {n} elements", found=dims(dy.shape))
    dy2 = dy.reshape(m, n)
    dw = (x.reshape(m, k).T @ dy2).reshape(w.shape)
    db = dy2.sum(axis=0, dtype=dtype)
    if num_outputs == 2:
        return (dw, db)
    return (dw, db, (dy2 @ w.reshape(k, n).T).reshape(x.shape))


gradient_not_implemented_yet("FCTransposedGradient")
