"""RMSNorm (scale each row of X flattened at ``axis`` by the reciprocal of its root
mean square, then by gamma, and add beta) and its gradient op RMSNormGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.schema.shapes import canonical_axis as shape_axis
from .._dense import canonical_axis, dims, enforce_cmp, enforce_that, float_tensor, size_from
from .._dense import size_to


def _shape(x: TensorShape, gamma: TensorShape, beta: TensorShape, *,
           axis: int) -> tuple[TensorShape, TensorShape]:
    if x.dims is None:
        return (x, TensorShape(None, x.dtype))
    return (x, TensorShape(tuple(x.dims[:shape_axis(axis, len(x.dims))]), x.dtype))


@register_cpu_operator(
    "RMSNorm",
    inputs=["input", "gamma", "beta"],
    outputs=["output", "rrms"],
    args=[Arg("axis", int, 1, doc="rows are X flattened at this axis"),
          Arg("eps", float, 0.0, doc="added to the mean square before the square root")],
    shape=_shape,
    example=Example(
        {"input": np.array([[3, 4], [0, 1]], np.float32), "gamma": np.array([1, 2], np.float32),
         "beta": np.array([0, 1], np.float32)},
        {"output": np.array([[0.84852814, 3.2627418], [0, 3.828427]], np.float32),
         "rrms": np.array([0.28284273, 1.4142135], np.float32)},
        rtol=1e-5),
    doc="""Root-mean-square normalisation (float32 or float64, at least 2-D): X is read as
(M x N) rows by flattening it at ``axis``; per row rrms = 1 / sqrt(mean(x²) + eps) and
output = rrms·x·gamma + beta (gamma and beta of N values). rrms has shape
X.shape[:axis]. Note the argument is spelt ``eps`` (what Caffe2's kernel read).

Example: input=[[3, 4], [0, 1]], gamma=[1, 2], beta=[0, 1] ->
output=[[0.8485281, 3.2627418], [0, 3.828427]], rrms=[0.2828427, 1.4142135]""",
)
def rms_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *, axis: int,
             eps: float) -> tuple:
    """rrms·x·gamma + beta per row."""
    dtype = float_tensor(x, "input")
    float_tensor(gamma, "gamma", dtype)
    float_tensor(beta, "beta", dtype)
    enforce_cmp(x.ndim >= 2, "X.dim() >= 2", x.ndim, 2, "RMSNorm requires input dim >= 2.",
                blob="input")
    ax = canonical_axis(axis, x.ndim)
    m, n = size_to(x.shape, ax), size_from(x.shape, ax)
    enforce_cmp(gamma.size == n, "gamma.numel() == N", gamma.size, n, blob="gamma")
    enforce_cmp(beta.size == n, "beta.numel() == N", beta.size, n, blob="beta")
    rows = x.reshape(m, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        rrms = 1 / np.sqrt(np.square(rows).mean(axis=1, dtype=dtype) + dtype.type(eps))
    y = rrms[:, None] * rows * gamma.reshape(1, n) + beta.reshape(1, n)
    return (y.reshape(x.shape).astype(dtype, copy=False), rrms.reshape(x.shape[:ax]))


@register_gradient("RMSNorm")
def rms_norm_gradient_maker(g):
    """``RMSNormGradient([output_grad, input, gamma, rrms]) -> [input_grad, gamma_grad,
    beta_grad]``."""
    return [g.op_def("RMSNormGradient", [g.GO(0), g.I(0), g.I(1), g.O(1)],
                     [g.GI(0), g.GI(1), g.GI(2)])]


@register_cpu_operator(
    "RMSNormGradient",
    inputs=["dY", "X", "gamma", "rrms"],
    outputs=["dX", "dgamma", "dbeta"],
    args=[Arg("axis", int, 1, doc="as in RMSNorm"),
          Arg("eps", float, 0.0,
              doc="not read: RMSNorm's gradient maker copies RMSNorm's arguments "
                  "(Caffe2's default), so this op carries it")],
    shape=lambda dy, x, gamma, rrms: (x, gamma, gamma),
    example=Example(
        {"dY": np.array([[1, 1]], np.float32), "X": np.array([[3, 4]], np.float32),
         "gamma": np.array([1, 1], np.float32), "rrms": np.array([0.2], np.float32)},
        {"dX": np.array([[0.116, 0.088]], np.float32),
         "dgamma": np.array([0.6, 0.8], np.float32), "dbeta": np.array([1, 1], np.float32)},
        rtol=1e-5),
    doc="""Gradient of RMSNorm: per row with r = rrms and N values,
dX = r·dY·gamma - r³/N·sum(dY·x·gamma)·x, dgamma = column sums of dY·x·r, dbeta =
column sums of dY (gamma's shape).

Example: dY=[[1, 1]], X=[[3, 4]], gamma=[1, 1], rrms=[0.2] -> dX=[[0.116, 0.088]],
dgamma=[0.6, 0.8], dbeta=[1, 1]""",
)
def rms_norm_gradient(dy: np.ndarray, x: np.ndarray, gamma: np.ndarray, rrms: np.ndarray, *,
                      axis: int, eps: float) -> tuple:
    """The RMSNorm backward pass."""
    dtype = float_tensor(dy, "dY")
    for value, name in ((x, "X"), (gamma, "gamma"), (rrms, "rrms")):
        float_tensor(value, name, dtype)
    ax = canonical_axis(axis, x.ndim)
    m, n = size_to(x.shape, ax), size_from(x.shape, ax)
    enforce_that(dy.shape == x.shape, "dY.sizes() == X.sizes()", blob="dY",
                 expected=f"X's shape {dims(x.shape)}", found=dims(dy.shape))
    enforce_cmp(gamma.size == n, "gamma.numel() == N", gamma.size, n, blob="gamma")
    enforce_cmp(rrms.size == m, "rrms.numel() == M", rrms.size, m, blob="rrms")
    if m == 0:
        return (np.zeros(x.shape, dtype), np.zeros(gamma.shape, dtype),
                np.zeros(gamma.shape, dtype))
    rows, g = x.reshape(m, n), dy.reshape(m, n)
    r, gam = rrms.reshape(m), gamma.reshape(1, n)
    ds = np.einsum("ij,ij->i", g * gam, rows)
    c2 = -(dtype.type(1) / dtype.type(n)) * ds * r ** 3
    dx = r[:, None] * g * gam + c2[:, None] * rows
    dgamma = np.einsum("ij,ij->j", g, rows * r[:, None])
    dbeta = g.sum(axis=0, dtype=dtype)
    return (dx.reshape(x.shape).astype(dtype, copy=False),
            dgamma.reshape(gamma.shape).astype(dtype, copy=False), dbeta.reshape(gamma.shape))


gradient_not_implemented_yet("RMSNormGradient")
