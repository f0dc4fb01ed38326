"""RowWiseSparseAdagrad: sparse AdaGrad with one history value per row, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ShapeError
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
    row_sum,
    same_shapes,
    size_from,
    writable_rows,
)


def _cost(param: TensorShape, moment: TensorShape, indices: TensorShape,
          grad: TensorShape, lr: TensorShape, *counter: TensorShape) -> Cost:
    """Caffe2's CostInferenceForRowWiseSparseAdagrad."""
    n, g = numel_of(indices), numel_of(grad)
    if n == 0:
        return Cost()
    block = g // n
    ps, ms, gs, is_, ls = (itemsize(param), itemsize(moment), itemsize(grad),
                           itemsize(indices, 8), itemsize(lr))
    if block == 1:
        written = n * (ps + ms)
        return Cost(flops=9 * n, bytes_written=written,
                    bytes_read=written + n * (gs + is_ + ls))
    written = n * ms + n * block * ps
    return Cost(flops=n * (5 + block * 8), bytes_written=written,
                bytes_read=written + n * ls + 2 * n * block * (gs + ps))


@register_cpu_operator(
    "RowWiseSparseAdagrad",
    inputs=["param", "moment", "indices", "grad", "lr", "counter"],
    outputs=["output_param", "output_moment_1"],
    num_inputs=(5, 6),
    args=[Arg("epsilon", float, 1e-5), Arg("weight_decay", float, 0.0),
          Arg("counter_halflife", int, -1)],
    enforce_inplace=[(0, 0), (1, 1)],
    shape=same_shapes(0, 1),
    cost=_cost,
    example=Example(
        {"param": np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], F32),
         "moment": np.array([0.0, 1.0, 4.0], F32),
         "indices": np.array([2], np.int32),
         "grad": np.array([[1.0, 3.0]], F32),
         "lr": np.array([-2.0], F32)},
        {"param": np.array([[1.0, 1.0], [2.0, 2.0], [2.5, 1.5]], F32),
         "moment": np.array([0.0, 1.0, 9.0], F32)},
        {"epsilon": 1.0}),
    doc="""Given (param, moment, indices, grad, lr), runs a row-wise sparse AdaGrad update:
moment holds one value per row of param (moment.numel() == param.shape[0]). For
slice i of grad and row r = indices[i], with g = grad[i] + weight_decay * param[r],

    moment[r] = moment[r] + mean(g * g)
    param[r] = param[r] + g * lr / (sqrt(moment[r]) + epsilon)

(a row of one element uses param[r] + lr * g / (sqrt(moment[r]) + epsilon)). A row
is block = grad.numel() / len(indices) elements; param.size_from_dim(1) must equal
grad.size_from_dim(indices.ndim). Outputs are param and moment themselves (in
place); a row named twice is updated twice, in order. The optional counter input
(frequency-adjusted weight decay) is accepted and ignored, as in Caffe2's plain CPU
kernel. indices are int32 or int64; an index outside param is an error (Caffe2 did
not check it). Defaults: epsilon 1e-5, weight_decay 0.

In a workspace the stored param and moment arrays are written, only the rows named
and only after every check has passed (a failing op changes nothing), so the time
and memory depend on the indices, not on the table. When something else refers to
such an array (another blob holding a view of it, a profiler), or the kernel is
called on its own, a copy is updated instead, with the same result.""",
)
def row_wise_sparse_adagrad(param: np.ndarray, moment: np.ndarray, indices: np.ndarray,
                            grad: np.ndarray, lr: np.ndarray, counter: Any = None, *,
                            epsilon: float, weight_decay: float, counter_halflife: int,
                            outputs: Any = None) -> tuple:
    """Row-wise sparse AdaGrad, writing only the rows named."""
    in_param, in_moment = owned(param, outputs, 0), owned(moment, outputs, 1)
    for x, blob in ((param, "param"), (moment, "moment"), (grad, "grad")):
        float_input(x, blob)
    if param.ndim == 0:
        raise ShapeError("param must have at least one dimension", blob="param",
                         expected="at least 1-D", found="a 0-D tensor")
    eq(param.shape[0], moment.size, "Input(PARAM).sizes()[0] == Input(MOMENT_1).numel()",
       blob="moment")
    float_input(lr, "lr")
    eq(lr.size, 1, "Input(LR).numel() == 1", blob="lr")
    index_input(indices)
    eq(size_from(param.shape, 1), size_from(grad.shape, indices.ndim),
       "Input(PARAM).size_from_dim(1) == Input(GRAD).size_from_dim(Input(INDICES).dim())",
       blob="grad")
    n = indices.size
    if n == 0:
        return (param, moment)
    block = grad.size // n
    if block == 0:  # Caffe2 divided by this block size
        raise ShapeError("grad has empty rows: the block size is 0", blob="grad",
                         expected="at least one element per index",
                         found=f"shape {grad.shape}")
    eq(param.size // block if block else 0, moment.size,
       "Input(PARAM).numel() / block_size == Input(MOMENT_1).numel()",
       f"Input Param size: {param.size} Block size: {block} Input Moment size: "
       f"{moment.size}", blob="moment")
    eq(grad.size % n, 0, "Input(GRAD).numel() % n == 0",
       f"Incorrect gradient size:{grad.size} size of indexes:{n}", blob="grad")
    idx = indices.reshape(-1)
    check_row_bounds(idx, moment.size, block, param.size)
    rate = first_lr(lr)
    eps = F32(epsilon)
    g_all = grad.reshape(n, block)
    new_param, w_rows = writable_rows(param, block, in_param)
    new_moment, h_rows = writable_rows(moment, 1, in_moment)
    h_flat = h_rows.reshape(-1)
    if _native.native is not None and len(w_rows) == len(h_flat):
        _native.native.row_wise_sparse_adagrad(w_rows, h_flat, np.ascontiguousarray(idx),
                                       np.ascontiguousarray(g_all), len(w_rows), block,
                                       rate, eps, float(weight_decay))
        return (new_param, new_moment)
    # C float arithmetic: a negative moment gives NaN silently, as in Caffe2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for pos in occurrence_levels(idx):
            rows = idx[pos]
            w = w_rows[rows]
            g = g_all[pos]
            if weight_decay != 0.0:
                g = fma32(weight_decay, w, g)
            if block == 1:
                h = h_flat[rows] + g[:, 0] * g[:, 0]
                h_flat[rows] = h
                w_rows[rows] = w + rate * g / (np.sqrt(h) + eps)[:, None]
            else:
                h = h_flat[rows] + row_sum(g * g) / F32(block)
                h_flat[rows] = h
                step = rate / (np.sqrt(h) + eps)
                w_rows[rows] = w + g * step[:, None]
    return (new_param, new_moment)


should_not_do_gradient("RowWiseSparseAdagrad")
