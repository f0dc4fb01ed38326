"""SparseToDense: scatter-add (indices, values) into a dense tensor (Caffe2
sparse_to_dense_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.opschema import Arg

from ..segment._segment_checks import check_index_type
from ..segment._segment_kernels import rows_view

# Caffe2 dispatched on float, int32 and int64 values; float64 is a caffe2lite addition.
VALUE_TYPES = (np.float32, np.float64, np.int32, np.int64)


def scatter_add_rows(
    indices: np.ndarray, values2d: np.ndarray, rows: int
) -> np.ndarray:
    """``out[indices[i]] += values2d[i]`` in index order, on zeros of ``rows`` rows."""
    out = np.zeros((rows, values2d.shape[1]), values2d.dtype)
    if indices.size == 0 or values2d.shape[1] == 0:
        return out
    order = np.argsort(indices, kind="stable")
    ordered = indices[order]
    firsts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    if firsts.size == ordered.size:
        out[indices] += values2d
    else:
        out[ordered[firsts]] += np.add.reduceat(values2d[order], firsts, axis=0)
    return out


def _sparse_to_dense_shape(
    indices: TensorShape,
    values: TensorShape,
    data_to_infer_dim: TensorShape | None = None,
    *,
    output_first_dim: int,
) -> tuple[TensorShape]:
    """values' trailing dims and type after a first dimension of output_first_dim,
    else data_to_infer_dim's first dimension, else max(indices) + 1 (data: a symbol)."""
    if values.dims is None or not values.dims:
        return (TensorShape(None, values.dtype),)
    if output_first_dim > 0:
        rows = output_first_dim
    elif data_to_infer_dim is not None:
        if not data_to_infer_dim.dims:
            return (TensorShape(None, values.dtype),)
        rows = data_to_infer_dim.dims[0]
    else:
        rows = "max(indices)+1"
    return (TensorShape((rows,) + tuple(values.dims[1:]), values.dtype),)


@register_cpu_operator(
    "SparseToDense",
    inputs=["indices", "values", "data_to_infer_dim"],
    outputs=["output"],
    shape=_sparse_to_dense_shape,
    example=Example(
        {
            "indices": np.array([0, 2, 0], np.int32),
            "values": np.array([1, 2, 3], np.float32),
            "data_to_infer_dim": np.array([0, 0, 0, 0], np.float32),
        },
        {"output": np.array([4, 0, 2, 0], np.float32)},
    ),
    num_inputs=(2, 3),
    args=[
        Arg(
            "output_first_dim",
            int,
            0,
            doc="the first dimension of the output; only with 2 inputs",
        )
    ],
    doc="""Convert a sparse representation (indices, values) to a dense tensor.

indices is a 1-D int32/int64 vector with one entry per row of values (float, int32
or int64); output[indices[i]] += values[i], rows without an index are 0 (duplicated
indices sum, which makes it the dense form of a GradientSlice). The output's first
dimension is output_first_dim if given, else the first dimension of
data_to_infer_dim if given, else max(indices) + 1; the rest is values.shape[1:].

Example: indices=[0, 2, 0], values=[1, 2, 3], data_to_infer_dim=[0, 0, 0, 0]
-> output=[4, 0, 2, 0]""",
)
def sparse_to_dense(indices, values, data_to_infer_dim=None, *, output_first_dim):
    """Dense tensor of summed rows of ``values`` at ``indices``."""
    check_index_type(indices, "indices")
    if not isinstance(values, np.ndarray) or values.dtype not in VALUE_TYPES:
        name = cpp_type_name(getattr(values, "dtype", object))
        raise DTypeError(
            f"SparseToDense is not implemented on tensor of type {name}Consider adding it "
            "a type in the list DispatchHelper or implementing a generic version (which "
            "won't work for duplicated indices though)",
            blob="values",
            expected="float32, float64, int32 or int64",
            found=name,
        )
    if indices.ndim != 1:
        raise ShapeError(
            "sparse_indices.dim() == 1",
            blob="indices",
            expected="1-D",
            found=f"shape {indices.shape}",
        )
    if values.ndim < 1:
        raise ShapeError(
            "sparse_values.dim() >= 1",
            blob="values",
            expected="rank >= 1",
            found=f"shape {values.shape}",
        )
    if indices.shape[0] != values.shape[0]:
        raise EnforceError(
            "sparse_indices.numel() == sparse_values.dim(0)",
            blob="values",
            expected=f"first dim {indices.shape[0]} (len(indices))",
            found=values.shape[0],
        )
    rows = _output_first_dim(indices, data_to_infer_dim, output_first_dim)
    if indices.size:
        lo, hi = int(indices.min()), int(indices.max())
        if lo < 0:
            raise EnforceError(
                "idx >= 0", blob="indices", expected="indices >= 0", found=lo
            )
        if hi >= rows:
            raise EnforceError(
                "idx < output_first_dim",
                blob="indices",
                expected=f"indices < {rows}",
                found=hi,
            )
    values2d = rows_view(values)
    out = scatter_add_rows(indices, values2d, rows)
    return (out.reshape((rows,) + values.shape[1:]),)


def _output_first_dim(indices, data_to_infer_dim, output_first_dim: int) -> int:
    if output_first_dim > 0:
        if data_to_infer_dim is not None:
            raise EnforceError(
                "InputSize() == 2",
                arg="output_first_dim",
                expected="2 inputs when output_first_dim is set",
                found=3,
            )
        return output_first_dim
    if data_to_infer_dim is not None:
        if np.ndim(data_to_infer_dim) < 1:
            raise ShapeError(
                "data_to_infer_dim.dim() >= 1",
                blob="data_to_infer_dim",
                expected="rank >= 1",
                found="a scalar",
            )
        return int(data_to_infer_dim.shape[0])
    return int(indices.max()) + 1 if indices.size else 0


@register_gradient("SparseToDense")
def sparse_to_dense_gradient(g):
    """Gather([dOUT, indices]) -> values_grad: each value gets its row's gradient."""
    return [g.op_def("Gather", [g.GO(0), g.I(0)], [g.GI(1)])]
