"""SparseMomentumSGDUpdate: momentum SGD on the rows named by a GradientSlice, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .. import _sparse_update_native as _native
from ._sgd_common import (
    F32,
    eq,
    first_lr,
    float_input,
    index_input,
    momentum_step,
    occurrence_levels,
    owned,
    size_from,
    that,
    writable_rows,
)


def _shape(grad: TensorShape, moment: TensorShape, lr: TensorShape, param: TensorShape,
           indices: TensorShape) -> tuple[TensorShape, TensorShape, TensorShape]:
    return (grad, moment, param)


@register_cpu_operator(
    "SparseMomentumSGDUpdate",
    inputs=["grad", "moment", "lr", "param", "indices"],
    outputs=["output_grad", "output_moment", "output_param"],
    args=[Arg("momentum", float, 0.0), Arg("nesterov", int, 0)],
    allow_inplace=[(0, 0)],
    enforce_inplace=[(1, 1), (3, 2)],
    shape=_shape,
    example=Example(
        {"grad": np.array([[1.0, -2.0]], F32),
         "moment": np.array([[0.0, 0.0], [4.0, 2.0]], F32),
         "lr": np.array([0.5], F32),
         "param": np.array([[1.0, 1.0], [10.0, 10.0]], F32),
         "indices": np.array([1], np.int64)},
        {"grad": np.array([[2.5, 0.0]], F32),
         "moment": np.array([[0.0, 0.0], [2.5, 0.0]], F32),
         "param": np.array([[1.0, 1.0], [7.5, 10.0]], F32)},
        {"momentum": 0.5}),
    doc="""Performs a momentum SGD update like MomentumSGDUpdate, but with a GradientSlice
(grad holds one slice per entry of indices) and indices into the rows of the full
param and moment tables. For slice i and row r = indices[i]:

    if not nesterov:
        adjusted = lr * grad[i] + momentum * moment[r];  moment[r] = adjusted
    else:
        m_new = momentum * moment[r] + lr * grad[i]
        adjusted = (1 + momentum) * m_new - momentum * moment[r];  moment[r] = m_new
    param[r] = param[r] - adjusted;  output_grad[i] = adjusted

A row is param.numel() / param.shape[0] elements; moment has param's size and
param.size_from_dim(1) must equal grad.size_from_dim(indices.ndim). moment and param
must be updated in place (outputs 1 and 2 are those blobs); grad may be. A row named
twice is updated twice, in order. indices are int32 or int64; an index outside
param, or a number of indices other than grad's number of rows, is an error.
Defaults: momentum 0, nesterov 0.

In a workspace the stored moment and param arrays are written, only the rows named
and only after every check has passed (a failing op changes nothing), so the time
and memory depend on the indices, not on the table. When something else refers to
such an array (another blob holding a view of it, a profiler), or the kernel is
called on its own, a copy is updated instead, with the same result.""",
)
def sparse_momentum_sgd_update(grad: np.ndarray, moment: np.ndarray, lr: np.ndarray,
                               param: np.ndarray, indices: np.ndarray, *, momentum: float,
                               nesterov: int, outputs: Any = None) -> tuple:
    """Momentum SGD on the rows named, writing only those rows."""
    in_moment, in_param = owned(moment, outputs, 1), owned(param, outputs, 2)
    for x, blob in ((grad, "grad"), (moment, "moment"), (param, "param")):
        float_input(x, blob)
    float_input(lr, "lr")
    eq(lr.size, 1, "Input(LR).numel() == 1", blob="lr")
    eq(param.size, moment.size, "Input(PARAM).numel() == Input(MOMENTUM).numel()",
       blob="moment")
    index_input(indices)
    eq(size_from(param.shape, 1), size_from(grad.shape, indices.ndim),
       "Input(PARAM).size_from_dim(1) == Input(GRAD).size_from_dim(Input(INDICES).ndim())",
       blob="grad")
    if param.ndim == 0 or param.shape[0] == 0 or param.size == 0:
        # Caffe2 divided by param.numel() / param.dim(0)
        raise ShapeError("param must have at least one row of at least one element",
                         blob="param", expected="a non-empty tensor of rank >= 1",
                         found=f"shape {param.shape}")
    block = param.size // param.shape[0]
    n = grad.size // block if block else 0
    idx = indices.reshape(-1)
    eq(idx.size, n, "Input(INDICES).numel() == Input(GRAD).numel() / block_size",
       blob="indices")
    if idx.size:
        bad = (idx < 0) | (idx >= param.shape[0])
        that(not bad.any(), "offsetIdx + block_size <= Input(PARAM).size()",
             blob="indices", expected=f"0 <= index < {param.shape[0]}",
             found=int(idx[np.flatnonzero(bad)[0]]) if bad.any() else None,
             error=ShapeError)
    rate = first_lr(lr)
    g_all = grad.reshape(n, block)
    grad_out = np.empty((n, block), F32)
    new_moment, m_rows = writable_rows(moment, block, in_moment)
    new_param, w_rows = writable_rows(param, block, in_param)
    if _native.native is not None and len(w_rows) == len(m_rows):
        _native.native.sparse_momentum_sgd(
            w_rows, m_rows, np.ascontiguousarray(idx), np.ascontiguousarray(g_all),
            grad_out, len(w_rows), block, rate, float(F32(momentum)), bool(nesterov))
        return (grad_out.reshape(grad.shape), new_moment, new_param)
    for pos in occurrence_levels(idx):
        rows = idx[pos]
        adjusted, new_m = momentum_step(g_all[pos], m_rows[rows], rate, momentum, nesterov)
        m_rows[rows] = new_m
        w_rows[rows] = w_rows[rows] - adjusted
        grad_out[pos] = adjusted
    return (grad_out.reshape(grad.shape), new_moment, new_param)


should_not_do_gradient("SparseMomentumSGDUpdate")
