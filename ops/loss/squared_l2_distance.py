"""SquaredL2Distance (half the squared Euclidean distance between rows) and its
gradient op SquaredL2DistanceGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import TensorShape
from .._dense import dims, enforce_cmp, enforce_that, float_tensor, same_shape


def _rows(x: np.ndarray) -> tuple[int, int]:
    """(N, D): N = X.shape[0] (1 for a scalar) rows of D values."""
    n = x.shape[0] if x.ndim > 0 else 1
    return n, (x.size // n if n > 0 else 0)


def _distance_shape(x: TensorShape, y: TensorShape) -> tuple[TensorShape]:
    """(N,): X's first dimension (Caffe2's IdenticalTypeAndShapeOfInputDim(0, 0));
    1 for a scalar, as the kernel does."""
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    return (TensorShape((x.dims[0] if x.dims else 1,), x.dtype),)


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "SquaredL2Distance",
    inputs=["X", "Y"],
    outputs=["Z"],
    shape=_distance_shape,
    example=Example(
        {"X": _f([[1, 2], [3, 4]]), "Y": _f([[1, 0], [0, 0]])}, {"Z": _f([2, 12.5])}
    ),
    doc="""Half the squared L2 distance between matching rows of X and Y (same shape,
float32 or float64): Z[i] = 0.5 * ||X[i] - Y[i]||², with N = X.shape[0] rows (1 for a
scalar). Z has shape (N,).

Example: X=[[1, 2], [3, 4]], Y=[[1, 0], [0, 0]] -> Z=[2, 12.5]""",
)
def squared_l2_distance(x: np.ndarray, y: np.ndarray) -> tuple:
    """Z[i] = 0.5 * sum((X[i] - Y[i])**2)."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    enforce_cmp(x.ndim == y.ndim, "X.dim() == Y.dim()", x.ndim, y.ndim, blob="Y")
    for p, q in zip(x.shape, y.shape):
        enforce_cmp(p == q, "X.dim32(i) == Y.dim32(i)", p, q, blob="Y")
    n, d = _rows(x)
    diff = (x - y).reshape(n, d)
    z = np.einsum("ij,ij->i", diff, diff)
    z *= 0.5
    return (z,)


@register_gradient("SquaredL2Distance")
def squared_l2_distance_gradient_maker(g):
    """``SquaredL2DistanceGradient([X, Y, Z_grad]) -> [X_grad, Y_grad]``."""
    return [
        g.op_def(
            "SquaredL2DistanceGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0), g.GI(1)]
        )
    ]


@register_cpu_operator(
    "SquaredL2DistanceGradient",
    inputs=["X", "Y", "dZ"],
    outputs=["dX", "dY"],
    shape=lambda x, y, dz: (x, TensorShape(y.dims, x.dtype)),
    example=Example(
        {"X": _f([[1, 2]]), "Y": _f([[1, 0]]), "dZ": _f([3])},
        {"dX": _f([[0, 6]]), "dY": _f([[0, -6]])},
    ),
    doc="""Gradient of SquaredL2Distance: dX[i] = dZ[i] * (X[i] - Y[i]) and dY = -dX.

Example: X=[[1, 2]], Y=[[1, 0]], dZ=[3] -> dX=[[0, 6]], dY=[[0, -6]]""",
)
def squared_l2_distance_gradient(x: np.ndarray, y: np.ndarray, dz: np.ndarray) -> tuple:
    """(X - Y) scaled row-wise by dZ, and its negation."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    float_tensor(dz, "dZ", dtype)
    n, d = _rows(x)
    same_shape(x, y, "X", "Y", "Y")
    enforce_that(
        dz.ndim == 1,
        "dDistance.dim() == 1",
        blob="dZ",
        expected="a 1-D tensor",
        found=dims(dz.shape),
    )
    enforce_that(
        dz.shape[0] == n,
        "dDistance.dim32(0) == N",
        blob="dZ",
        expected=f"{n} values",
        found=dz.shape[0],
    )
    dx = (x - y).reshape(n, d)
    dx *= dz[:, None]
    dx = dx.reshape(x.shape)
    return (dx, np.negative(dx, out=np.empty_like(dx)))


gradient_not_implemented_yet("SquaredL2DistanceGradient")
