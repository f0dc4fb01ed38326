"""RowWiseSparseAdam: sparse Adam with one second-moment value per row, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .. import _sparse_update_native as _native
from ._sgd_common import (
    F32,
    adam_correction,
    eq,
    first_lr,
    float_input,
    index_input,
    iteration,
    occurrence_levels,
    owned,
    row_sum,
    size_from,
    writable_rows,
)
from .sparse_adam import _adam_outputs, sparse_rows


def _shape(param: TensorShape, m1: TensorShape, m2: TensorShape, indices: TensorShape,
           grad: TensorShape, lr: TensorShape, it: TensorShape, *, num_outputs: int = 3
           ) -> tuple[TensorShape, ...]:
    return (param, m1, m2, grad)[:num_outputs]


@register_cpu_operator(
    "RowWiseSparseAdam",
    inputs=["param", "moment_1", "moment_2", "indices", "grad", "lr", "iter"],
    outputs=["output_param", "output_moment_1", "output_moment_2", "output_grad"],
    num_outputs=(3, 4),
    args=[Arg("beta1", float, 0.9), Arg("beta2", float, 0.999),
          Arg("epsilon", float, 1e-5)],
    enforce_inplace=[(0, 0), (1, 1), (2, 2)],
    shape=_shape,
    example=Example(
        {"param": np.array([[1.0, 1.0], [2.0, 2.0]], F32),
         "moment_1": np.zeros((2, 2), F32), "moment_2": np.zeros(2, F32),
         "indices": np.array([1], np.int64), "grad": np.array([[2.0, -2.0]], F32),
         "lr": np.array([-0.5], F32), "iter": np.array([0], np.int64)},
        {"param": np.array([[1.0, 1.0], [1.5, 2.5]], F32),
         "moment_1": np.array([[0.0, 0.0], [1.0, -1.0]], F32),
         "moment_2": np.array([0.0, 4.0], F32)},
        {"beta1": 0.5, "beta2": 0.0, "epsilon": 0.0}),
    doc="""A modified Adam update for the sparse case: moment_2 holds one value per row of
param (moment_2.numel() == param.shape[0]), updated with the mean of the squared
gradient over the row. For slice i of grad and row r = indices[i], with
t = iter + 1 and correction = sqrt(1 - beta2^t) / (1 - beta1^t):

    moment_2[r] = beta2 * moment_2[r] + (1 - beta2) * mean(grad[i]^2)
    moment_1[r] = beta1 * moment_1[r] + (1 - beta1) * grad[i]
    param[r] = param[r] + lr * correction * moment_1[r] / (sqrt(moment_2[r]) + epsilon)

Outputs are the param and moment blobs themselves (in place); the optional
output_grad holds correction * moment_1[r] / (sqrt(moment_2[r]) + epsilon) per slice.
A row named twice is updated twice, in order. indices are int32 or int64; an index
outside param, or a number of indices other than grad's number of rows, is an error
(Caffe2 did not check). Defaults: beta1 0.9, beta2 0.999, epsilon 1e-5.

In a workspace the stored param and moment arrays are written, only the rows named
and only after every check has passed (a failing op changes nothing), so the time
and memory depend on the indices, not on the table. When something else refers to
such an array (another blob holding a view of it, a profiler), or the kernel is
called on its own, a copy is updated instead, with the same result.""",
)
def row_wise_sparse_adam(param: np.ndarray, moment_1: np.ndarray, moment_2: np.ndarray,
                         indices: np.ndarray, grad: np.ndarray, lr: np.ndarray,
                         it: np.ndarray, *, beta1: float, beta2: float, epsilon: float,
                         num_outputs: int, outputs: Any = None) -> tuple:
    """Row-wise sparse Adam, writing only the rows named."""
    in_place = [owned(param, outputs, 0), owned(moment_1, outputs, 1),
                owned(moment_2, outputs, 2)]
    for x, blob in ((param, "param"), (moment_1, "moment_1"), (moment_2, "moment_2"),
                    (grad, "grad")):
        float_input(x, blob)
    eq(param.size, moment_1.size, "Input(PARAM).numel() == Input(MOMENT_1).numel()",
       blob="moment_1")
    eq(param.shape[0] if param.ndim else 1, moment_2.size,
       "Input(PARAM).sizes()[0] == Input(MOMENT_2).numel()", blob="moment_2")
    index_input(indices)
    eq(size_from(param.shape, 1), size_from(grad.shape, indices.ndim),
       "Input(PARAM).size_from_dim(1) == Input(GRAD).size_from_dim(Input(INDICES).dim())",
       blob="grad")
    float_input(lr, "lr")
    eq(lr.size, 1, "Input(LR).numel() == 1", blob="lr")
    rate = first_lr(lr)
    t = iteration(it) + 1
    block, n, idx = sparse_rows(param, indices, grad)
    c = adam_correction(beta1, beta2, t, wide=True)  # Caffe2 kept it a double here
    b1, b2, eps = F32(beta1), F32(beta2), F32(epsilon)
    g_all = grad.reshape(n, block)
    new_param, w_rows = writable_rows(param, block, in_place[0])
    new_m1, m_rows = writable_rows(moment_1, block, in_place[1])
    new_m2, v_rows = writable_rows(moment_2, 1, in_place[2])
    v_flat = v_rows.reshape(-1)
    grad_out = np.empty((n, block), F32) if num_outputs == 4 else None
    if _native.native is not None and len(w_rows) == len(m_rows) == len(v_flat):
        _native.native.row_wise_sparse_adam(
            w_rows, m_rows, v_flat, np.ascontiguousarray(idx), np.ascontiguousarray(g_all),
            grad_out, len(w_rows), block, rate, b1, b2, eps, float(c))
        return _adam_outputs(new_param, new_m1, new_m2, grad_out, grad)
    # C float arithmetic: a negative moment gives NaN silently, as in Caffe2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for pos in occurrence_levels(idx):
            rows = idx[pos]
            g = g_all[pos]
            mean_sq = row_sum(g * g) / F32(block)
            v = v_flat[rows] * b2 + mean_sq * (F32(1) - b2)
            v_flat[rows] = v
            m = m_rows[rows] * b1 + g * (F32(1) - b1)
            m_rows[rows] = m
            denom = (np.sqrt(v) + eps)[:, None]
            m = m.astype(np.float64)  # the double correction times m in double (numpy
            # 1.x's casting kept a double scalar times a float32 array in float32)
            if grad_out is None:
                step = rate * c * m / denom  # in double, rounded once when stored
            else:
                ng = (c * m / denom).astype(F32)
                grad_out[pos] = ng
                step = rate * ng
            w_rows[rows] = w_rows[rows] + step
    return _adam_outputs(new_param, new_m1, new_m2, grad_out, grad)


should_not_do_gradient("RowWiseSparseAdam")
