"""SparseAdagrad: AdaGrad on the rows of a parameter named by a GradientSlice, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import Cost, TensorShape

from .. import _sparse_update_native as _native
from ._sgd_common import (
    F32,
    check_row_bounds,
    eq,
    first_lr,
    float_input,
    fma32,
    index_input,
    itemsize,
    numel_of,
    occurrence_levels,
    owned,
    same_shapes,
    size_from,
    writable_rows,
)


def _cost(param: TensorShape, moment: TensorShape, indices: TensorShape,
          grad: TensorShape, lr: TensorShape) -> Cost:
    """Caffe2's CostInferenceForSparseAdagrad."""
    n, g = numel_of(indices), numel_of(grad)
    written = g * (itemsize(param) + itemsize(moment))
    return Cost(flops=7 * g, bytes_written=written,
                bytes_read=written + g * itemsize(grad) + n * itemsize(indices, 8))


@register_cpu_operator(
    "SparseAdagrad",
    inputs=["param", "moment", "indices", "grad", "lr"],
    outputs=["output_param", "output_moment_1"],
    args=[Arg("epsilon", float, 1e-5), Arg("weight_decay", float, 0.0),
          Arg("decay", float, 1.0, check=lambda v: v == 1.0,
              check_message="Decay is not supported for SparseSimdAdagradOp",
              expected="decay == 1")],
    enforce_inplace=[(0, 0), (1, 1)],
    shape=same_shapes(0, 1),
    cost=_cost,
    example=Example(
        {"param": np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], F32),
         "moment": np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]], F32),
         "indices": np.array([2, 0], np.int64),
         "grad": np.array([[1.0, 2.0], [3.0, 4.0]], F32),
         "lr": np.array([-1.0], F32)},
        {"param": np.array([[0.0, 0.0], [2.0, 2.0], [2.0, 2.0]], F32),
         "moment": np.array([[9.0, 16.0], [1.0, 1.0], [1.0, 4.0]], F32)},
        {"epsilon": 0.0}),
    doc="""Given (param, moment, indices, grad, lr), runs the dense AdaGrad update on the
rows of param and moment named by indices: for slice i of grad and row r = indices[i],

    g = grad[i] + weight_decay * param[r]
    moment[r] = moment[r] + g * g
    param[r] = param[r] + lr * g / (sqrt(moment[r]) + epsilon)

A row is block = grad.numel() / len(indices) consecutive elements; param and moment
must have the same number of elements and param.size_from_dim(1) must equal
grad.size_from_dim(indices.ndim). Outputs are param and moment themselves (in place);
rows not named keep their values. A row named twice is updated twice, in order, as in
Caffe2's loop. indices are int32 or int64; an index outside param is an error. decay
must be 1 (Caffe2 refused anything else). Defaults: epsilon 1e-5, weight_decay 0.

In a workspace the stored param and moment arrays are written, only the rows named
and only after every check has passed (a failing op changes nothing), so the time
and memory depend on the indices, not on the table. When something else refers to
such an array (another blob holding a view of it, a profiler), or the kernel is
called on its own, a copy is updated instead, with the same result.""",
)
def sparse_adagrad(param: np.ndarray, moment: np.ndarray, indices: np.ndarray,
                   grad: np.ndarray, lr: np.ndarray, *, epsilon: float,
                   weight_decay: float, decay: float, outputs: Any = None) -> tuple:
    """Sparse AdaGrad, writing only the rows named."""
    in_param, in_moment = owned(param, outputs, 0), owned(moment, outputs, 1)
    for x, blob in ((param, "param"), (moment, "moment"), (grad, "grad")):
        float_input(x, blob)
    eq(param.size, moment.size, "Input(PARAM).numel() == Input(MOMENT_1).numel()",
       f"Input Param size: {param.size} Input Moment size: {moment.size}", blob="moment")
    float_input(lr, "lr")
    eq(lr.size, 1, "Input(LR).numel() == 1", blob="lr")
    index_input(indices)
    eq(size_from(param.shape, 1), size_from(grad.shape, indices.ndim),
       "Input(PARAM).size_from_dim(1) == Input(GRAD).size_from_dim(Input(INDICES).dim())",
       blob="grad")
    n = indices.size
    if n == 0:
        return (param, moment)
    eq(grad.size % n, 0, "Input(GRAD).numel() % n == 0",
       f"Incorrect gradient size:{grad.size} size of indexes:{n}", blob="grad")
    block = grad.size // n
    if block == 0:  # empty rows: nothing to update (Caffe2's loop did nothing either)
        return (param, moment)
    idx = indices.reshape(-1)
    check_row_bounds(idx, param.size // block if block else 0, block, param.size)
    rate = first_lr(lr)
    eps = F32(epsilon)
    g_all = grad.reshape(n, block)
    new_param, w_rows = writable_rows(param, block, in_param)
    new_moment, h_rows = writable_rows(moment, block, in_moment)
    if _native.native is not None and len(w_rows) == len(h_rows):
        _native.native.sparse_adagrad(w_rows, h_rows, np.ascontiguousarray(idx),
                              np.ascontiguousarray(g_all), len(w_rows), block, rate, eps,
                              float(weight_decay))
        return (new_param, new_moment)
    # C float arithmetic: a negative moment gives NaN silently, as in Caffe2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for pos in occurrence_levels(idx):
            rows = idx[pos]
            w = w_rows[rows]
            g = g_all[pos]
            if weight_decay != 0.0:
                g = fma32(weight_decay, w, g)
            h = h_rows[rows] + g * g
            h_rows[rows] = h
            w_rows[rows] = w + rate * g / (np.sqrt(h) + eps)
    return (new_param, new_moment)


should_not_do_gradient("SparseAdagrad")
