"""LayerNorm (normalise each row of X flattened at ``axis`` to mean 0 and standard
deviation 1, optionally then scale by gamma and shift by beta) and its gradient op
LayerNormGradient."""

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


def _moments_dims(shape, axis: int):
    """X's dimensions before ``axis``, then 1: the shape of mean and std."""
    return tuple(shape[:axis]) + (1,)


def _shape(x: TensorShape, gamma: TensorShape | None = None, beta: TensorShape | None = None,
           *, axis: int) -> tuple[TensorShape, ...]:
    if x.dims is None:
        return (x, TensorShape(None, x.dtype), TensorShape(None, x.dtype))
    stats = TensorShape(_moments_dims(x.dims, shape_axis(axis, len(x.dims))), x.dtype)
    return (x, stats, stats)


@register_cpu_operator(
    "LayerNorm",
    inputs=["input", "gamma", "beta"],
    outputs=["output", "mean", "stddev"],
    allowed_inputs={1, 3},
    num_inputs=(1, 3),
    args=[
        Arg("axis", int, 1, doc="rows are X flattened at this axis"),
        Arg("epsilon", float, 1e-5, doc="added to the variance before the square root"),
        Arg("elementwise_affine", bool, False,
            doc="scale by gamma and shift by beta (inputs 1 and 2) after normalising"),
    ],
    shape=_shape,
    example=Example(
        {"input": np.array([[1, 3], [2, 2]], np.float32)},
        {"output": np.array([[-0.999995, 0.999995], [0, 0]], np.float32),
         "mean": np.array([[2], [2]], np.float32),
         "stddev": np.array([[1.000005], [0.00316228]], np.float32)},
        rtol=1e-5),
    doc="""Layer normalisation (float32 or float64, at least 2-D): X is read as (M x N)
rows by flattening it at ``axis``; for each row, mean = mean(x), stddev = sqrt(var(x) +
epsilon) (var the population variance, mean((x - mean)²)), and output =
(x - mean) / stddev. With ``elementwise_affine`` (three inputs), output is then
multiplied by gamma and beta is added (both of N values, broadcast over the rows).
mean and stddev have shape X.shape[:axis] + (1,).

Example: input=[[1, 3], [2, 2]] -> output=[[-0.999995, 0.999995], [0, 0]],
mean=[[2], [2]], stddev=[[1.000005], [0.0031623]]""",
)
def layer_norm(x: np.ndarray, gamma: np.ndarray | None = None,
               beta: np.ndarray | None = None, *, axis: int, epsilon: float,
               elementwise_affine: bool) -> tuple:
    """(x - mean) / sqrt(var + epsilon) per row, then gamma·y + beta when asked."""
    dtype = float_tensor(x, "input")
    enforce_cmp(x.ndim >= 2, "X.dim() >= 2", x.ndim, 2,
                "LayerNorm requires input dim >= 2.", blob="input")
    ax = canonical_axis(axis, x.ndim)
    m, n = size_to(x.shape, ax), size_from(x.shape, ax)
    stats_shape = _moments_dims(x.shape, ax)
    if elementwise_affine:
        given = 1 + (gamma is not None) + (beta is not None)
        enforce_cmp(given == 3, "InputSize() == 3", given, 3, blob="gamma")
        float_tensor(gamma, "gamma", dtype)
        float_tensor(beta, "beta", dtype)
        enforce_cmp(gamma.size == n, "gamma.numel() == N", gamma.size, n, blob="gamma")
        enforce_cmp(beta.size == n, "beta.numel() == N", beta.size, n, blob="beta")
    if m == 0:
        empty = np.empty(stats_shape, dtype)
        return (np.empty(x.shape, dtype), empty, empty.copy())
    rows = x.reshape(m, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = rows.mean(axis=1, dtype=dtype)
        var = np.square(rows - mean[:, None]).mean(axis=1, dtype=dtype)
        std = np.sqrt(var + dtype.type(epsilon))
        scale = 1 / std
        y = rows * scale[:, None] + (-scale * mean)[:, None]
    if elementwise_affine:
        y = y * gamma.reshape(1, n) + beta.reshape(1, n)
    return (y.reshape(x.shape).astype(dtype, copy=False), mean.reshape(stats_shape),
            std.reshape(stats_shape))


@register_gradient("LayerNorm")
def layer_norm_gradient_maker(g):
    """``LayerNormGradient([output_grad, output, mean, stddev, input(, gamma)]) ->
    [input_grad(, gamma_grad, beta_grad)]``."""
    if g.arg("elementwise_affine", False):
        return [g.op_def("LayerNormGradient",
                         [g.GO(0), g.O(0), g.O(1), g.O(2), g.I(0), g.I(1)],
                         [g.GI(0), g.GI(1), g.GI(2)])]
    return [g.op_def("LayerNormGradient", [g.GO(0), g.O(0), g.O(1), g.O(2), g.I(0)],
                     [g.GI(0)])]


def _gradient_shape(dy: TensorShape, y: TensorShape, mean: TensorShape, sigma: TensorShape,
                    x: TensorShape, gamma: TensorShape | None = None, *,
                    num_outputs: int = 1) -> tuple[TensorShape, ...]:
    g = gamma if gamma is not None else TensorShape(None, x.dtype)
    return (x, g, g)[:num_outputs]


@register_cpu_operator(
    "LayerNormGradient",
    inputs=["dY", "Y", "mean", "sigma", "X", "gamma"],
    outputs=["dX", "dgamma", "dbeta"],
    allowed_inputs={5, 6},
    num_inputs=(5, 6),
    num_outputs=(1, 3),
    args=[Arg("axis", int, 1, doc="as in LayerNorm"),
          Arg("elementwise_affine", bool, False, doc="as in LayerNorm"),
          Arg("epsilon", float, 1e-5,
              doc="not read: LayerNorm's gradient maker copies LayerNorm's arguments "
                  "(Caffe2's default), so this op carries it")],
    shape=_gradient_shape,
    example=Example(
        {"dY": np.array([[1, 0]], np.float32), "Y": np.array([[-1, 1]], np.float32),
         "mean": np.array([[2]], np.float32), "sigma": np.array([[1]], np.float32),
         "X": np.array([[1, 3]], np.float32)},
        {"dX": np.array([[0, 0]], np.float32)}),
    doc="""Gradient of LayerNorm from dY, the forward outputs (Y is not read), X and,
with ``elementwise_affine``, gamma: for each row of N values with r = 1/sigma,
dX = r·g - r³/N·sum(g·(x - mean))·(x - mean) - r/N·sum(g) where g = dY·gamma (or dY);
with ``elementwise_affine`` also dgamma = column sums of dY·(x - mean)·r and dbeta =
column sums of dY (gamma's shape).

Example: dY=[[1, 0]], Y=[[-1, 1]], mean=[[2]], sigma=[[1]], X=[[1, 3]] -> dX=[[0, 0]]""",
)
def layer_norm_gradient(dy: np.ndarray, y: np.ndarray, mean: np.ndarray, sigma: np.ndarray,
                        x: np.ndarray, gamma: np.ndarray | None = None, *, axis: int,
                        elementwise_affine: bool, epsilon: float, num_outputs: int) -> tuple:
    """Caffe2's fused form of the layer-norm backward pass."""
    dtype = float_tensor(dy, "dY")
    for value, name in ((x, "X"), (mean, "mean"), (sigma, "sigma")):
        float_tensor(value, name, dtype)
    ax = canonical_axis(axis, x.ndim)
    m, n = size_to(x.shape, ax), size_from(x.shape, ax)
    enforce_that(dy.shape == x.shape, "dY.sizes() == X.sizes()", blob="dY",
                 expected=f"X's shape {dims(x.shape)}", found=dims(dy.shape))
    for value, name in ((mean, "mean"), (sigma, "sigma")):
        enforce_that(value.size == m, f"{name}.numel() == M", blob=name,
                     expected=f"{m} values (one per row)", found=dims(value.shape))
    affine = bool(elementwise_affine)
    if affine:
        enforce_that(gamma is not None, "InputSize() == 6", blob="gamma",
                     expected="gamma as input 5", found="5 inputs")
        float_tensor(gamma, "gamma", dtype)
        enforce_cmp(gamma.size == n, "gamma.numel() == N", gamma.size, n, blob="gamma")
    enforce_that(num_outputs == (3 if affine else 1), "OutputSize() matches elementwise_affine",
                 blob="dX", expected=f"{3 if affine else 1} outputs", found=num_outputs)
    gamma_shape = gamma.shape if affine else ()
    if m == 0:
        dx = np.zeros(x.shape, dtype)
        if not affine:
            return (dx,)
        return (dx, np.zeros(gamma_shape, dtype), np.zeros(gamma_shape, dtype))
    rows, g_rows = x.reshape(m, n), dy.reshape(m, n)
    mu, r = mean.reshape(m), 1 / sigma.reshape(m)
    g = g_rows * gamma.reshape(1, n) if affine else g_rows
    ds = np.einsum("ij,ij->i", g, rows)
    db = g.sum(axis=1, dtype=dtype)
    inv_n = dtype.type(1) / dtype.type(n)
    x_scale = (db * mu - ds) * r ** 3 * inv_n
    bias = -x_scale * mu - db * r * inv_n
    dx = (g * r[:, None] + rows * x_scale[:, None] + bias[:, None]).reshape(x.shape)
    if not affine:
        return (dx.astype(dtype, copy=False),)
    dgamma = np.einsum("ij,ij->j", g_rows, (rows - mu[:, None]) * r[:, None])
    dbeta = g_rows.sum(axis=0, dtype=dtype)
    return (dx.astype(dtype, copy=False), dgamma.reshape(gamma_shape).astype(dtype),
            dbeta.reshape(gamma_shape))


gradient_not_implemented_yet("LayerNormGradient")
