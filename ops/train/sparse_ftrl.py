"""SparseFtrl: FTRL-Proximal on the rows named by a GradientSlice, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .. import _sparse_update_native as _native
from ._sgd_common import F32, eq, float_input, occurrence_levels, owned, writable_rows
from .ftrl import FTRL_ARGS, alpha_inverse, ftrl_step


def _shape(var: TensorShape, n_z: TensorShape, indices: TensorShape, grad: TensorShape,
           *alpha: TensorShape) -> tuple[TensorShape, TensorShape]:
    return (var, n_z)


@register_cpu_operator(
    "SparseFtrl",
    inputs=["var", "n_z", "indices", "grad", "alpha"],
    outputs=["output_var", "output_n_z"],
    num_inputs=(4, 5),
    args=FTRL_ARGS,
    enforce_inplace=[(0, 0), (1, 1)],
    shape=_shape,
    example=Example(
        {"var": np.array([0.0, 0.0], F32), "n_z": np.array([[0.0, 0.0], [0.0, 0.0]], F32),
         "indices": np.array([1], np.int64), "grad": np.array([2.0], F32)},
        {"var": np.array([0.0, -0.5], F32),
         "n_z": np.array([[0.0, 0.0], [4.0, 2.0]], F32)},
        {"alpha": 1.0, "beta": 0.0, "lambda1": 1.0, "lambda2": 0.0}),
    doc="""The FTRL-Proximal update (see Ftrl) on the rows of var named by indices: slice
i of grad updates row indices[i] of var and its (n, z) pairs in n_z. A row is
var.numel() / var.shape[0] elements; n_z holds two values per element of var. Both
are updated in place (the outputs are var and n_z themselves); a row named twice is
updated twice, in order. indices are int32 or int64. Caffe2 checked the sizes and
the index range only in debug builds; here a mismatch or an index outside var is an
error.

In a workspace the stored var and n_z arrays are written, only the rows named and
only after every check has passed (a failing op changes nothing), so the time and
memory depend on the indices, not on the table. When something else refers to such
an array (another blob holding a view of it, a profiler), or the kernel is called on
its own, a copy is updated instead, with the same result.""",
)
def sparse_ftrl(var: np.ndarray, n_z: np.ndarray, indices: np.ndarray, grad: np.ndarray,
                alpha_input: Any = None, *, alpha: float, beta: float, lambda1: float,
                lambda2: float, op_def: Any = None, outputs: Any = None) -> tuple:
    """Sparse FTRL, writing only the rows named."""
    in_var, in_nz = owned(var, outputs, 0), owned(n_z, outputs, 1)
    alpha_inv = alpha_inverse(alpha, alpha_input, op_def)
    if not isinstance(indices, np.ndarray) or indices.dtype not in (np.int32, np.int64):
        found = cpp_type_name(indices.dtype) if isinstance(indices, np.ndarray) \
            else type(indices).__name__
        raise DTypeError(f"Unsupported type of INDICES in SparseFtrlOp: {found}",
                         blob="indices", expected="int32 or int64", found=found)
    for x, blob in ((var, "var"), (n_z, "n_z"), (grad, "grad")):
        float_input(x, blob)
    if var.ndim == 0 or var.shape[0] == 0 or var.size == 0:
        raise ShapeError("var must have at least one row of at least one element",
                         blob="var", expected="a non-empty tensor of rank >= 1",
                         found=f"shape {var.shape}")
    rows_n, block = var.shape[0], var.size // var.shape[0]
    idx = indices.reshape(-1)
    eq(var.size * 2, n_z.size, "M * 2 == n_z->numel()", blob="n_z")
    eq(grad.size, idx.size * block, "grad.numel() == K * block_size", blob="grad")
    bad = (idx < 0) | (idx >= rows_n)
    if bad.any():
        value = int(idx[np.flatnonzero(bad)[0]])
        raise EnforceError(f"Index out of bounds: {value}, range 0 to {rows_n}",
                           blob="indices", expected=f"0 <= index < {rows_n}", found=value)
    g_all = grad.reshape(idx.size, block)
    new_var, w_rows = writable_rows(var, block, in_var)
    new_nz, nz_rows = writable_rows(n_z, 2 * block, in_nz)
    if _native.native is not None and len(w_rows) == len(nz_rows) and block:
        _native.native.sparse_ftrl(
            w_rows, nz_rows, np.ascontiguousarray(idx), np.ascontiguousarray(g_all),
            len(w_rows), block, alpha_inv, float(F32(beta)), float(F32(lambda1)),
            float(F32(lambda2)))
        return (new_var, new_nz)
    for pos in occurrence_levels(idx):
        rows = idx[pos]
        pairs = nz_rows[rows].reshape(-1, block, 2)
        w, n, z = ftrl_step(w_rows[rows], pairs[..., 0], pairs[..., 1], g_all[pos],
                            alpha_inv, beta, lambda1, lambda2)
        w_rows[rows] = w
        nz_rows[rows] = np.stack([n, z], axis=-1).reshape(-1, 2 * block)
    return (new_var, new_nz)


should_not_do_gradient("SparseFtrl")
