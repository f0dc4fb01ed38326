"""DotProduct (row-wise dot products of two same-shaped tensors) and its gradient op
DotProductGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import Cost, TensorShape, numel
from .._dense import dims, enforce_cmp, enforce_that, float_tensor, same_shape


def _rows(x: np.ndarray) -> tuple[int, int]:
    """(N, D): N rows of D values; an empty tensor has no rows at all (as in Caffe2)."""
    if x.size == 0:
        return 0, 0
    n = x.shape[0] if x.ndim > 0 else 1
    return n, x.size // n


def _dot_shape(x: TensorShape, y: TensorShape) -> tuple[TensorShape]:
    """Z is (N,): X's first dimension (1 for a scalar, 0 when X is empty, as the
    kernel does; Caffe2's inference said X.dims(0) even then)."""
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    if any(d == 0 for d in x.dims):
        return (TensorShape((0,), x.dtype),)
    return (TensorShape((x.dims[0] if x.dims else 1,), x.dtype),)


def _dot_cost(x: TensorShape, y: TensorShape, *, outputs) -> Cost:
    """Caffe2's CostInferenceForDotProduct: two flops per element of X, X and Y read
    at X's item size, N outputs written at four bytes (Caffe2 took sizeof of the
    dtype enum)."""
    item = x.dtype.itemsize if x.dtype is not None else 0
    n = outputs[0].dims[0] if outputs and outputs[0].known else 0
    return Cost(
        flops=2 * numel(x), bytes_read=(numel(x) + numel(y)) * item, bytes_written=4 * n
    )


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "DotProduct",
    inputs=["X", "Y"],
    outputs=["Z"],
    shape=_dot_shape,
    cost=_dot_cost,
    example=Example(
        {"X": _f([[1, 2], [3, 4]]), "Y": _f([[5, 6], [7, 8]])}, {"Z": _f([17, 53])}
    ),
    doc="""Row-wise dot product of X and Y (same shape, float32 or float64): with N =
X.shape[0] (1 for a scalar), Z[i] = sum of X[i] * Y[i] over everything after the
first dimension, so 1-D inputs give their element-wise products. Z has shape (N,); an
empty X gives an empty Z.

Example: X=[[1, 2], [3, 4]], Y=[[5, 6], [7, 8]] -> Z=[17, 53]""",
)
def dot_product(x: np.ndarray, y: np.ndarray) -> tuple:
    """Z[i] = <X[i], Y[i]>."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    enforce_cmp(x.ndim == y.ndim, "X.dim() == Y.dim()", x.ndim, y.ndim, blob="Y")
    for i, (p, q) in enumerate(zip(x.shape, y.shape)):
        enforce_cmp(
            p == q, "X.dim32(i) == Y.dim32(i)", p, q, f"dimension at {i}", blob="Y"
        )
    n, d = _rows(x)
    return (np.einsum("ij,ij->i", x.reshape(n, d), y.reshape(n, d)),)


@register_gradient("DotProduct")
def dot_product_gradient_maker(g):
    """``DotProductGradient([X, Y, Z_grad]) -> [X_grad, Y_grad]``."""
    return [
        g.op_def("DotProductGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0), g.GI(1)])
    ]


@register_cpu_operator(
    "DotProductGradient",
    inputs=["X", "Y", "dZ"],
    outputs=["dX", "dY"],
    shape=lambda x, y, dz: (x, y),
    example=Example(
        {"X": _f([[1, 2]]), "Y": _f([[3, 4]]), "dZ": _f([2])},
        {"dX": _f([[6, 8]]), "dY": _f([[2, 4]])},
    ),
    doc="""Gradient of DotProduct: dX[i] = dZ[i] * Y[i] and dY[i] = dZ[i] * X[i].

Example: X=[[1, 2]], Y=[[3, 4]], dZ=[2] -> dX=[[6, 8]], dY=[[2, 4]]""",
)
def dot_product_gradient(x: np.ndarray, y: np.ndarray, dz: np.ndarray) -> tuple:
    """Each row of the other input, scaled by that row's output gradient."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    float_tensor(dz, "dZ", dtype)
    n, d = _rows(x)
    same_shape(x, y, "X", "Y", "Y")
    enforce_that(
        dz.ndim == 1,
        "dDot.dim() == 1",
        blob="dZ",
        expected="a 1-D tensor",
        found=dims(dz.shape),
    )
    enforce_that(
        dz.shape[0] == n,
        "dDot.dim32(0) == N",
        blob="dZ",
        expected=f"{n} values",
        found=dz.shape[0],
    )
    scale = dz[:, None]
    dx = (y.reshape(n, d) * scale).reshape(x.shape)
    dy = (x.reshape(n, d) * scale).reshape(y.shape)
    return (dx, dy)


gradient_not_implemented_yet("DotProductGradient")
