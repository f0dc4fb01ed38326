"""L1Distance (the sum of absolute differences between matching rows of X and Y) and
its gradient op L1DistanceGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import dims, enforce_cmp, enforce_that, float_tensor, same_shape

# Caffe2's dead zone for the sign of x - y in the gradient.
_EPS = 1e-12


def _rows(x: np.ndarray) -> tuple[int, int]:
    """(N, D): N = X.shape[0] (1 for a scalar) rows of D values."""
    n = x.shape[0] if x.ndim > 0 else 1
    return n, (x.size // n if n > 0 else 0)


@register_cpu_operator(
    "L1Distance",
    inputs=["X", "Y"],
    outputs=["Z"],
    shape=lambda x, y: (TensorShape(None if x.dims is None else (x.dims[0] if x.dims else 1,),
                                    x.dtype),),
    example=Example({"X": np.array([[5, 5, 5, 5]], np.float32),
                     "Y": np.array([[1, 1, 1, 1]], np.float32)},
                    {"Z": np.array([16], np.float32)}),
    doc="""L1 distance between matching rows of X and Y (same shape, float32 or float64):
Z[i] = sum(|X[i] - Y[i]|), with N = X.shape[0] rows (1 for a scalar). Z has shape (N,).

Example: X=[[5, 5, 5, 5]], Y=[[1, 1, 1, 1]] -> Z=[16]""",
)
def l1_distance(x: np.ndarray, y: np.ndarray) -> tuple:
    """sum(|X[i] - Y[i]|) per row."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    enforce_cmp(x.ndim == y.ndim, "X.dim() == Y.dim()", x.ndim, y.ndim, blob="Y")
    for p, q in zip(x.shape, y.shape):
        enforce_cmp(p == q, "X.dim32(i) == Y.dim32(i)", p, q, blob="Y")
    n, d = _rows(x)
    return (np.abs((x - y).reshape(n, d)).sum(axis=1, dtype=dtype),)


@register_gradient("L1Distance")
def l1_distance_gradient_maker(g):
    """``L1DistanceGradient([X, Y, Z_grad]) -> [X_grad, Y_grad]``."""
    return [g.op_def("L1DistanceGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0), g.GI(1)])]


@register_cpu_operator(
    "L1DistanceGradient",
    inputs=["X", "Y", "dDistance"],
    outputs=["dX", "dY"],
    shape=lambda x, y, dd: (x, y),
    example=Example({"X": np.array([[5, 1, 2]], np.float32), "Y": np.array([[1, 3, 2]], np.float32),
                     "dDistance": np.array([2], np.float32)},
                    {"dX": np.array([[2, -2, 0]], np.float32),
                     "dY": np.array([[-2, 2, 0]], np.float32)}),
    doc="""Gradient of L1Distance: dX[i] = sign(X[i] - Y[i])·dDistance[i] (0 where
|X - Y| <= 1e-12) and dY = -dX.

Example: X=[[5, 1, 2]], Y=[[1, 3, 2]], dDistance=[2] -> dX=[[2, -2, 0]], dY=[[-2, 2, 0]]""",
)
def l1_distance_gradient(x: np.ndarray, y: np.ndarray, dd: np.ndarray) -> tuple:
    """sign(X - Y) scaled row-wise, and its negation."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    float_tensor(dd, "dDistance", dtype)
    same_shape(x, y, "X", "Y", "Y")
    n, d = _rows(x)
    enforce_that(dd.ndim == 1, "dDistance.dim() == 1", blob="dDistance",
                 expected="a 1-D tensor", found=dims(dd.shape))
    enforce_that(dd.shape[0] == n, "dDistance.dim32(0) == N", blob="dDistance",
                 expected=f"{n} values", found=dd.shape[0])
    diff = (x - y).reshape(n, d)
    sign = (diff > _EPS).astype(dtype) - (diff < -_EPS).astype(dtype)
    dx = (sign * dd[:, None]).reshape(x.shape)
    return (dx, np.negative(dx, out=np.empty_like(dx)))


gradient_not_implemented_yet("L1DistanceGradient")
