"""TopK: the k largest values along an axis with their indices (and optionally their
indices into the flattened input); its gradient op TopKGradient scatters the values'
gradient back."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape, dim_product

from .._dense import dims, enforce_cmp, float_tensor

MAX_ELEMENTS = 2**31 - 1  # outputs larger than this are refused before allocating
_AXIS = Arg("axis", int, -1, doc="the axis to search (-1: the last)")
_K = Arg("k", int, -1, doc="how many values to keep (>= 1)", check=lambda k: k >= 1,
         check_message="k argument must be >= 1", expected="k >= 1")


def _axis(axis: int, ndim: int) -> int:
    if axis == -1:
        axis = ndim - 1
    enforce_cmp(axis >= 0, "axis_ >= 0", axis, 0, blob="X")
    enforce_cmp(axis < ndim, "axis_ < input_dims.size()", axis, ndim, blob="X")
    return axis


def _shape(x: TensorShape, *, k: int, axis: int, num_outputs: int):
    if x.dims is None:
        outs = [TensorShape(None, x.dtype), TensorShape(None, np.int64)]
    else:
        ax = _axis(axis, len(x.dims))
        d = list(x.dims)
        d[ax] = k
        outs = [TensorShape(tuple(d), x.dtype), TensorShape(tuple(d), np.int64)]
    if num_outputs > 2:
        n = None if outs[1].dims is None else (dim_product(outs[1].dims),)
        outs.append(TensorShape(n, np.int64))
    return tuple(outs)


@register_cpu_operator(
    "TopK",
    inputs=["X"],
    outputs=["Values", "Indices", "Flatten indices"],
    num_outputs=(2, 3),
    args=[_K, _AXIS],
    shape=_shape,
    example=Example({"X": np.array([[3, 1, 4, 1], [5, 9, 2, 6]], np.float32)},
                    {"Values": np.array([[4, 3], [9, 6]], np.float32),
                     "Indices": np.array([[2, 0], [1, 3]], np.int64),
                     "Flatten indices": np.array([2, 0, 5, 7], np.int64)}, {"k": 2}),
    doc="""The k (>= 1, required) largest values of X (float32 or float64) along
``axis`` (-1, the default, is the last axis), largest first, the lower index first
among equal values; Indices (int64) holds their positions along the axis, and the
optional third output their positions in the flattened X, as a 1-D int64 tensor.
When k exceeds the axis size, Values is padded with 0 and the indices with -1. NaN
sorts after every number here (Caffe2's heap left its place unspecified).

Example: X=[[3, 1, 4, 1], [5, 9, 2, 6]] with k=2 -> Values=[[4, 3], [9, 6]],
Indices=[[2, 0], [1, 3]], Flatten indices=[2, 0, 5, 7]""",
)
def top_k(x: np.ndarray, *, k: int, axis: int, num_outputs: int) -> tuple:
    """A stable descending sort along the axis, cut (or padded) to k."""
    float_tensor(x, "X")
    if k < 1:
        raise ArgumentError("k argument must be >= 1", arg="k", expected="k >= 1", found=k)
    ax = _axis(axis, x.ndim)
    n = x.shape[ax]
    others = int(np.prod(x.shape[:ax] + x.shape[ax + 1:], dtype=np.int64))
    if others * k > MAX_ELEMENTS:
        raise EnforceError("the TopK outputs would be too large", arg="k",
                           expected=f"at most {MAX_ELEMENTS} values", found=f"{others} * {k}")
    moved = np.moveaxis(x, ax, -1)
    order = np.argsort(-moved, axis=-1, kind="stable")[..., :k]
    values = np.take_along_axis(moved, order, axis=-1)
    indices = order.astype(np.int64)
    if k > n:
        pad = [(0, 0)] * (moved.ndim - 1) + [(0, k - n)]
        values = np.pad(values, pad, constant_values=0)
        indices = np.pad(indices, pad, constant_values=-1)
    values = np.ascontiguousarray(np.moveaxis(values, -1, ax))
    indices = np.ascontiguousarray(np.moveaxis(indices, -1, ax))
    out = (values, indices)
    if num_outputs > 2:
        inner = int(np.prod(x.shape[ax + 1:], dtype=np.int64))
        outer = np.arange(int(np.prod(x.shape[:ax], dtype=np.int64)), dtype=np.int64)
        shape = (len(outer), k, inner)
        base = (outer[:, None, None] * n * inner + np.arange(inner)[None, None, :])
        flat = base + indices.reshape(shape) * inner
        flat = np.where(indices.reshape(shape) < 0, -1, flat)
        out += (flat.reshape(-1),)
    return out


@register_gradient("TopK")
def top_k_gradient_maker(g):
    """``TopKGradient([Values_grad, Indices, X]) -> [X_grad]``."""
    return [g.op_def("TopKGradient", [g.GO(0), g.O(1), g.I(0)], [g.GI(0)])]


def _gradient_shape(dv: TensorShape, indices: TensorShape, x: TensorShape):
    return (TensorShape(x.dims, dv.dtype),)


@register_cpu_operator(
    "TopKGradient",
    inputs=["dValues", "Indices", "X"],
    outputs=["dX"],
    args=[_AXIS],
    shape=_gradient_shape,
    example=Example({"dValues": np.array([[1, 2], [3, 4]], np.float32),
                     "Indices": np.array([[2, 0], [1, 3]], np.int64),
                     "X": np.array([[3, 1, 4, 1], [5, 9, 2, 6]], np.float32)},
                    {"dX": np.array([[2, 0, 1, 0], [0, 3, 0, 4]], np.float32)}),
    doc="""Gradient of TopK: zeros of X's shape with each value gradient written at
its index along ``axis``; indices of -1 (padding) are skipped, other indices must
lie in the axis (Caffe2 wrote out of range).

Example: dValues=[[1, 2], [3, 4]], Indices=[[2, 0], [1, 3]], X of shape (2, 4) ->
dX=[[2, 0, 1, 0], [0, 3, 0, 4]]""",
)
def top_k_gradient(dv: np.ndarray, indices: np.ndarray, x: np.ndarray, *,
                   axis: int) -> tuple:
    """A scatter along the axis."""
    dtype = float_tensor(dv, "dValues")
    check_dtype(indices, "Indices", np.int64)
    enforce_cmp(dv.ndim == x.ndim, "values_dims.size() == origin_dims.size()", dv.ndim,
                x.ndim, blob="dValues")
    ax = _axis(axis, dv.ndim)
    n = x.shape[ax]
    want = x.shape[:ax] + (dv.shape[ax],) + x.shape[ax + 1:]
    if dv.shape != want or indices.shape != dv.shape:
        raise EnforceError("dValues and Indices must have X's shape but for the axis",
                           blob="Indices", expected=f"shape {dims(want)}",
                           found=f"{dims(dv.shape)} and {dims(indices.shape)}")
    if indices.size and (indices.max() >= n or indices.min() < -1):
        raise EnforceError("TopK index out of range", blob="Indices",
                           expected=f"indices in [-1, {n})",
                           found=f"[{int(indices.min())}, {int(indices.max())}]")
    dx = np.zeros(x.shape, dtype)
    moved_dx = np.moveaxis(dx, ax, -1)
    idx = np.moveaxis(indices, ax, -1)
    vals = np.moveaxis(dv, ax, -1)
    valid = idx >= 0
    lead = np.nonzero(valid)
    moved_dx[lead[:-1] + (idx[valid],)] = vals[valid]
    return (dx,)


gradient_not_implemented_yet("TopKGradient")
