"""CosineSimilarity (the cosine of the angle between matching rows of X and Y) and its
gradient op CosineSimilarityGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import dims, enforce_cmp, enforce_that, float_tensor, same_shape, size_from

# Caffe2's floor on each squared norm.
_EPS = 1e-12


def _rows(x: np.ndarray) -> tuple[int, int]:
    """(N, D) as Caffe2 read them: N = X.shape[0] (1 for a scalar), D = the product of
    the dimensions after the first (1 for a vector or a scalar)."""
    return (x.shape[0] if x.ndim > 0 else 1), size_from(x.shape, 1) if x.ndim > 1 else 1


def _shape(x: TensorShape, y: TensorShape) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    return (TensorShape((x.dims[0] if x.dims else 1,), x.dtype),)


@register_cpu_operator(
    "CosineSimilarity",
    inputs=["X", "Y"],
    outputs=["Z"],
    shape=_shape,
    example=Example({"X": np.array([[1, 0], [3, 4]], np.float32),
                     "Y": np.array([[0, 2], [3, 4]], np.float32)},
                    {"Z": np.array([0, 1], np.float32)}),
    doc="""Cosine similarity of matching rows of X and Y (same shape, float32 or
float64): Z[i] = <X[i], Y[i]> / sqrt(max(|X[i]|², 1e-12)·max(|Y[i]|², 1e-12)), with
N = X.shape[0] rows (1 for a scalar) of D = product of the other dimensions (a 1-D
input is N rows of one value). Z has shape (N,).

Example: X=[[1, 0], [3, 4]], Y=[[0, 2], [3, 4]] -> Z=[0, 1]""",
)
def cosine_similarity(x: np.ndarray, y: np.ndarray) -> tuple:
    """<x, y> / (|x|·|y|) per row, each squared norm floored at 1e-12."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    enforce_cmp(x.ndim == y.ndim, "X.dim() == Y.dim()", x.ndim, y.ndim, blob="Y")
    for p, q in zip(x.shape, y.shape):
        enforce_cmp(p == q, "X.dim32(i) == Y.dim32(i)", p, q, blob="Y")
    n, d = _rows(x)
    xr, yr = x.reshape(n, d), y.reshape(n, d)
    x2 = np.maximum(np.einsum("ij,ij->i", xr, xr), dtype.type(_EPS))
    y2 = np.maximum(np.einsum("ij,ij->i", yr, yr), dtype.type(_EPS))
    return ((np.einsum("ij,ij->i", xr, yr) / np.sqrt(x2 * y2)).astype(dtype, copy=False),)


@register_gradient("CosineSimilarity")
def cosine_similarity_gradient_maker(g):
    """``CosineSimilarityGradient([X, Y, Z_grad]) -> [X_grad, Y_grad]``."""
    return [g.op_def("CosineSimilarityGradient", [g.I(0), g.I(1), g.GO(0)],
                     [g.GI(0), g.GI(1)])]


@register_cpu_operator(
    "CosineSimilarityGradient",
    inputs=["X", "Y", "dCos"],
    outputs=["dX", "dY"],
    shape=lambda x, y, dcos: (x, y),
    example=Example({"X": np.array([[1, 0]], np.float32), "Y": np.array([[0, 2]], np.float32),
                     "dCos": np.array([1], np.float32)},
                    {"dX": np.array([[0, 1]], np.float32), "dY": np.array([[0.5, 0]], np.float32)}),
    doc="""Gradient of CosineSimilarity: per row with |x|, |y| the (floored) norms and
c = dCos[i], dX = c·(y / (|x|·|y|) - <x, y>·x / (|x|³·|y|)) and symmetrically dY.

Example: X=[[1, 0]], Y=[[0, 2]], dCos=[1] -> dX=[[0, 1]], dY=[[0.5, 0]]""",
)
def cosine_similarity_gradient(x: np.ndarray, y: np.ndarray, dcos: np.ndarray) -> tuple:
    """Derivatives of the row cosines, scaled by dCos."""
    dtype = float_tensor(x, "X")
    float_tensor(y, "Y", dtype)
    float_tensor(dcos, "dCos", dtype)
    n, d = _rows(x)
    same_shape(x, y, "X", "Y", "Y")
    enforce_that(dcos.ndim == 1, "dCos.dim() == 1", blob="dCos", expected="a 1-D tensor",
                 found=dims(dcos.shape))
    enforce_that(dcos.shape[0] == n, "dCos.dim32(0) == N", blob="dCos",
                 expected=f"{n} values", found=dcos.shape[0])
    xr, yr = x.reshape(n, d), y.reshape(n, d)
    xn = np.sqrt(np.maximum(np.einsum("ij,ij->i", xr, xr), dtype.type(_EPS)))
    yn = np.sqrt(np.maximum(np.einsum("ij,ij->i", yr, yr), dtype.type(_EPS)))
    xyn, xy = xn * yn, np.einsum("ij,ij->i", xr, yr)
    dx = (dcos / xyn)[:, None] * yr - (dcos * xy / (xn * xn * xyn))[:, None] * xr
    dy = (dcos / xyn)[:, None] * xr - (dcos * xy / (yn * yn * xyn))[:, None] * yr
    return (dx.reshape(x.shape).astype(dtype, copy=False),
            dy.reshape(y.shape).astype(dtype, copy=False))


gradient_not_implemented_yet("CosineSimilarityGradient")
