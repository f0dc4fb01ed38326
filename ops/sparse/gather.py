"""Gather: pick slices of DATA along one axis by INDICES (Caffe2 gather_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, GradientError, ShapeError
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type


def _output_shape(
    data_shape: tuple, indices_shape: tuple, axis: int, match_outer: bool
) -> tuple:
    """[data dims before axis] + [indices dims] + [data dims after axis]; DATA's own
    shape when the indexed dimension is empty (Caffe2's empty-batch rule)."""
    if data_shape[axis] == 0:
        return data_shape
    inner = indices_shape[axis:] if match_outer else indices_shape
    return data_shape[:axis] + inner + data_shape[axis + 1 :]


def gather_shape(
    data: TensorShape, indices: TensorShape, *, axis: int, match_outer: bool
) -> tuple[TensorShape]:
    """Caffe2's gather inference (calc_output_shape_vector): DATA's dims before
    ``axis``, INDICES' dims (after the outer ones with ``match_outer``), DATA's dims
    after ``axis``; DATA's shape when the indexed dimension is empty."""
    if data.dims is None or indices.dims is None:
        return (TensorShape(None, data.dtype),)
    ax = axis + len(data.dims) if axis < 0 else axis
    if not 0 <= ax < len(data.dims):
        raise ShapeError(
            "DATA should be at least [axis+1]-D",
            blob="DATA",
            expected=f"rank >= {ax + 1}",
            found=f"shape {data.dims}",
        )
    dims = _output_shape(tuple(data.dims), tuple(indices.dims), ax, match_outer)
    return (TensorShape(dims, data.dtype),)


def _checked_indices(flat: np.ndarray, dim: int, wrap: bool) -> np.ndarray:
    """Indices wrapped (when asked) and checked against the indexed dimension."""
    if flat.size == 0:
        return flat
    lo, hi = int(flat.min()), int(flat.max())
    if wrap and lo < 0:
        flat = np.where(flat < 0, flat + dim, flat)
        lo, hi = int(flat.min()), int(flat.max())
    if lo < 0 or hi >= dim:
        bad = int(flat[np.flatnonzero((flat < 0) | (flat >= dim))[0]])
        raise EnforceError(
            f"INDICES element is out of DATA bounds, id={bad} axis_dim={dim}",
            blob="INDICES",
            expected=f"0 <= index < {dim}",
            found=bad,
        )
    return flat


@register_cpu_operator(
    "Gather",
    inputs=["DATA", "INDICES"],
    outputs=["OUTPUT"],
    shape=gather_shape,
    example=Example(
        {
            "DATA": np.array([[1.0, 1.2], [2.3, 3.4], [4.5, 5.7]], np.float32),
            "INDICES": np.array([[0, 1], [1, 2]], np.int32),
        },
        {
            "OUTPUT": np.array(
                [[[1.0, 1.2], [2.3, 3.4]], [[2.3, 3.4], [4.5, 5.7]]], np.float32
            )
        },
    ),
    args=[
        Arg(
            "axis",
            int,
            0,
            doc="the dimension of DATA that INDICES index (negative "
            "counts from the back)",
        ),
        Arg(
            "wrap_indices",
            bool,
            None,
            doc="wrap negative indices once; the default is "
            "True when axis is 0, else False",
        ),
        Arg(
            "match_outer",
            bool,
            False,
            doc="INDICES share DATA's dims before axis, "
            "one index set per outer position",
        ),
        Arg(
            "dense_gradient",
            bool,
            False,
            doc="backward pass: a dense DATA gradient "
            "(SparseToDense) instead of a slice",
        ),
    ],
    doc="""Gather slices of DATA (rank >= 1, any type) along `axis` by INDICES (int32
or int64, any rank): OUTPUT has shape DATA.shape[:axis] + INDICES.shape +
DATA.shape[axis+1:] and DATA's type. A negative index i means dim + i when
wrap_indices is set (by default only for axis 0). When DATA's indexed dimension is
empty, OUTPUT is empty with DATA's shape.

Example: DATA=[[1.0, 1.2], [2.3, 3.4], [4.5, 5.7]], INDICES=[[0, 1], [1, 2]]
-> OUTPUT=[[[1.0, 1.2], [2.3, 3.4]], [[2.3, 3.4], [4.5, 5.7]]]""",
)
def gather(data, indices, *, axis, wrap_indices, match_outer, dense_gradient):
    """Slices of DATA along ``axis`` at INDICES."""
    check_index_type(indices)
    if not isinstance(data, np.ndarray):
        raise ShapeError(
            "DATA should be a tensor",
            blob="DATA",
            expected="a tensor",
            found=type(data).__name__,
        )
    wrap = (axis == 0) if wrap_indices is None else wrap_indices
    ax = axis + data.ndim if axis < 0 else axis
    if data.ndim < ax + 1:
        raise ShapeError(
            "DATA should be at least [axis+1]-D",
            blob="DATA",
            expected=f"rank >= {ax + 1}",
            found=f"shape {data.shape}",
        )
    if ax < 0:
        raise ShapeError(
            "Axis should be non-negative",
            blob="DATA",
            expected=f"-{data.ndim} <= axis < {data.ndim}",
            found=axis,
        )
    if match_outer:
        if ax < 1:
            raise EnforceError(
                "Axis should be at least 1", expected="axis >= 1", found=axis
            )
        if indices.ndim < ax or indices.shape[:ax] != data.shape[:ax]:
            raise EnforceError(
                "INDICES must have the same outer dims as DATA (before dim AXIS)",
                blob="INDICES",
                expected=f"outer dims {data.shape[:ax]}",
                found=f"shape {indices.shape}",
            )
    shape = _output_shape(data.shape, indices.shape, ax, match_outer)
    if 0 in shape:
        return (np.empty(shape, data.dtype),)
    dim = data.shape[ax]
    flat = _checked_indices(indices.reshape(-1), dim, wrap)
    if not match_outer:
        return (np.take(data, flat, axis=ax, mode="clip").reshape(shape),)
    outer = int(np.prod(data.shape[:ax]))
    blocks = np.ascontiguousarray(data).reshape(outer, dim, -1)
    picked = flat.reshape(outer, -1)
    out = blocks[np.arange(outer)[:, None], picked]
    return (out.reshape(shape),)


@register_gradient("Gather")
def gather_gradient(g):
    """axis 0: no op, DATA's gradient is the slice (INDICES, dOUT); with dense_gradient
    SparseToDense([INDICES, dOUT, DATA]) -> DATA_grad. Other axes:
    BatchGatherGradient([DATA, INDICES, dOUT]) -> DATA_grad."""
    dense = g.arg("dense_gradient", False)
    axis = g.arg("axis", 0)
    if axis == 0:
        if dense:
            return [g.op_def("SparseToDense", [g.I(1), g.GO(0), g.I(0)], [g.GI(0)])]
        g.SetSparse(0, g.I(1), g.GO(0))
        return []
    if any(a.name == "dense_gradient" for a in g.def_.arg) and not dense:
        raise GradientError(
            "Gather with axis > 0 must use dense_gradient",
            arg="dense_gradient",
            expected=True,
            found=False,
        )
    return [
        g.op_def("BatchGatherGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0)], axis=axis)
    ]
