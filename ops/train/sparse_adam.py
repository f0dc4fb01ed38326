"""SparseAdam: Adam (or RAdam) on the rows of a parameter named by a GradientSlice, in place."""

from __future__ import annotations

import math
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
    check_row_bounds,
    eq,
    first_lr,
    float_input,
    index_input,
    iteration,
    occurrence_levels,
    owned,
    size_from,
    writable_rows,
)


def _shape(param: TensorShape, m1: TensorShape, m2: TensorShape, indices: TensorShape,
           grad: TensorShape, lr: TensorShape, it: TensorShape, *, num_outputs: int = 3
           ) -> tuple[TensorShape, ...]:
    return (param, m1, m2, grad)[:num_outputs]


def sparse_rows(param: np.ndarray, indices: np.ndarray, grad: np.ndarray) -> tuple:
    """Caffe2's row layout of the sparse Adam ops: ``(block, n, flat indices)`` with
    block = param.numel() / param.shape[0] and n = grad.numel() / block, checked."""
    if param.ndim == 0 or param.shape[0] == 0 or param.size == 0:
        # Caffe2 divided by param.numel() / param.dim(0)
        raise ShapeError("param must have at least one row of at least one element",
                         blob="param", expected="a non-empty tensor of rank >= 1",
                         found=f"shape {param.shape}")
    block = param.size // param.shape[0]
    n = grad.size // block if block else 0
    idx = indices.reshape(-1)
    # Caffe2 read n indices without checking that there were n.
    eq(idx.size, n, "Input(INDICES).numel() == Input(GRAD).numel() / block_size",
       blob="indices")
    check_row_bounds(idx, param.shape[0], block, param.size)
    return block, n, idx


def radam_terms(beta1: float, beta2: float, t: int, enable: bool) -> tuple:
    """``(beta1_correction, correction, rho_t, r_correction)`` as Caffe2's SparseAdam
    computes them (float betas, std::pow in double)."""
    b1, b2 = float(F32(beta1)), float(F32(beta2))
    with np.errstate(divide="ignore", invalid="ignore"):
        beta1_correction = np.float64(1.0) / (np.float64(1.0) - b1 ** t)
        beta2_correction = np.float64(1.0) / np.sqrt(np.float64(1.0) - b2 ** t)
        correction = beta1_correction / beta2_correction
        rho_inf = F32(2.0) / (F32(1.0) - F32(b2)) - F32(1.0)
        rho_t = np.float64(rho_inf) - np.float64(F32(2.0) * F32(t)) * b2 ** t / (
            np.float64(1.0) - b2 ** t)
        r_correction = (F32(math.sqrt(rho_inf / ((rho_inf - F32(4)) * (rho_inf - F32(2)))))
                        if enable else F32(0))
    return beta1_correction, correction, rho_t, r_correction


@register_cpu_operator(
    "SparseAdam",
    inputs=["param", "moment_1", "moment_2", "indices", "grad", "lr", "iter"],
    outputs=["output_param", "output_moment_1", "output_moment_2", "output_grad"],
    num_outputs=(3, 4),
    args=[Arg("beta1", float, 0.9), Arg("beta2", float, 0.999),
          Arg("epsilon", float, 1e-5), Arg("enableRAdam", bool, False)],
    enforce_inplace=[(0, 0), (1, 1), (2, 2)],
    shape=_shape,
    example=Example(
        {"param": np.array([[1.0, 1.0], [2.0, 2.0]], F32),
         "moment_1": np.zeros((2, 2), F32), "moment_2": np.zeros((2, 2), F32),
         "indices": np.array([1], np.int64), "grad": np.array([[2.0, -2.0]], F32),
         "lr": np.array([-0.5], F32), "iter": np.array([0], np.int64)},
        {"param": np.array([[1.0, 1.0], [1.5, 2.5]], F32),
         "moment_1": np.array([[0.0, 0.0], [1.0, -1.0]], F32),
         "moment_2": np.array([[0.0, 0.0], [4.0, 4.0]], F32)},
        {"beta1": 0.5, "beta2": 0.0, "epsilon": 0.0}),
    doc="""The Adam update for the sparse case. Given (param, moment_1, moment_2, indices,
grad, lr, iter), runs the dense Adam update (see Adam) on row indices[i] of param,
moment_1 and moment_2 with slice i of grad, for every i. A row is
param.numel() / param.shape[0] elements; the moments have param's size and
param.size_from_dim(1) must equal grad.size_from_dim(indices.ndim). Outputs are the
param and moment blobs themselves (in place); the optional output_grad holds the
effective gradient of each slice. A row named twice is updated twice, in order, as
in Caffe2's loop. With enableRAdam, the Rectified Adam step is used: when
rho_t >= 5 the Adam step is scaled by r_t, otherwise the update is
lr * m / (1 - beta1^t). indices are int32 or int64; an index outside param, or a
number of indices other than grad's number of rows, is an error (Caffe2 did not
check). Defaults: beta1 0.9, beta2 0.999, epsilon 1e-5.

In a workspace the stored param and moment arrays are written, only the rows named
and only after every check has passed (a failing op changes nothing), so the time
and memory depend on the indices, not on the table. When something else refers to
such an array (another blob holding a view of it, a profiler), or the kernel is
called on its own, a copy is updated instead, with the same result.""",
)
def sparse_adam(param: np.ndarray, moment_1: np.ndarray, moment_2: np.ndarray,
                indices: np.ndarray, grad: np.ndarray, lr: np.ndarray, it: np.ndarray, *,
                beta1: float, beta2: float, epsilon: float, enableRAdam: bool,
                num_outputs: int, outputs: Any = None) -> tuple:
    """Sparse Adam, writing only the rows named."""
    in_place = [owned(param, outputs, 0), owned(moment_1, outputs, 1),
                owned(moment_2, outputs, 2)]
    for x, blob in ((param, "param"), (moment_1, "moment_1"), (moment_2, "moment_2"),
                    (grad, "grad")):
        float_input(x, blob)
    eq(param.size, moment_1.size, "Input(PARAM).numel() == Input(MOMENT_1).numel()",
       blob="moment_1")
    eq(param.size, moment_2.size, "Input(PARAM).numel() == Input(MOMENT_2).numel()",
       blob="moment_2")
    index_input(indices)
    eq(size_from(param.shape, 1), size_from(grad.shape, indices.ndim),
       "Input(PARAM).size_from_dim(1) == Input(GRAD).size_from_dim(Input(INDICES).dim())",
       blob="grad")
    float_input(lr, "lr")
    eq(lr.size, 1, "Input(LR).numel() == 1", blob="lr")
    rate = first_lr(lr)
    t = iteration(it) + 1
    block, n, idx = sparse_rows(param, indices, grad)
    b1c, correction, rho_t, r_corr = radam_terms(beta1, beta2, t, enableRAdam)
    b1, b2, eps = F32(beta1), F32(beta2), F32(epsilon)
    if block == 1:  # Caffe2's one-element rows use the double corrections
        c, b1c, rho = np.float64(correction), np.float64(b1c), float(rho_t)
    else:  # its per-block functions take them as float arguments
        c, b1c, rho = F32(correction), F32(b1c), float(F32(rho_t))
    rectified = enableRAdam and rho >= 5.0
    r_t = F32(math.sqrt(((rho - 4.0) * (rho - 2.0)) / rho) * float(r_corr)) \
        if rectified else F32(0)
    g_all = grad.reshape(n, block)
    new_param, w_rows = writable_rows(param, block, in_place[0])
    new_m1, m_rows = writable_rows(moment_1, block, in_place[1])
    new_m2, v_rows = writable_rows(moment_2, block, in_place[2])
    grad_out = np.empty((n, block), F32) if num_outputs == 4 else None
    if _native.native is not None and len(w_rows) == len(m_rows) == len(v_rows):
        mode = 0 if not enableRAdam else 1 if rectified else 2
        _native.native.sparse_adam(
            w_rows, m_rows, v_rows, np.ascontiguousarray(idx), np.ascontiguousarray(g_all),
            grad_out, len(w_rows), block, rate, b1, b2, eps, mode, block == 1, float(c),
            float(b1c), r_t)
        return _adam_outputs(new_param, new_m1, new_m2, grad_out, grad)
    # C float arithmetic: a negative moment gives NaN silently, as in Caffe2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for pos in occurrence_levels(idx):
            rows = idx[pos]
            g = g_all[pos]
            m = m_rows[rows] * b1 + g * (F32(1) - b1)
            v = v_rows[rows] * b2 + g * g * (F32(1) - b2)
            m_rows[rows] = m
            v_rows[rows] = v
            denom = np.sqrt(v) + eps
            if block == 1:  # double corrections: m in double too (numpy 1.x's
                m = m.astype(np.float64)  # casting kept scalar * float32 in float32)
            if grad_out is None:
                if not enableRAdam:
                    step = rate * c * m / denom
                elif rectified:
                    step = rate * r_t * c * m / denom
                else:
                    step = rate * b1c * m
            else:
                if not enableRAdam:
                    ng = c * m / denom
                elif rectified:
                    ng = r_t * c * m / denom
                else:
                    ng = b1c * m
                ng = ng.astype(F32, copy=False)
                grad_out[pos] = ng
                step = rate * ng
            w_rows[rows] = w_rows[rows] + step  # a double step is rounded once, here
    return _adam_outputs(new_param, new_m1, new_m2, grad_out, grad)


def _adam_outputs(param: np.ndarray, m1: np.ndarray, m2: np.ndarray,
                  grad_out: np.ndarray | None, grad: np.ndarray) -> tuple:
    """The outputs of the sparse Adam ops: the parameter and moments, and the
    effective gradients (grad's shape) when asked for."""
    if grad_out is None:
        return (param, m1, m2)
    return (param, m1, m2, grad_out.reshape(grad.shape))


should_not_do_gradient("SparseAdam")
