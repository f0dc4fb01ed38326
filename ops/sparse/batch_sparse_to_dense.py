"""BatchSparseToDense and its gradient op BatchDenseToSparse (Caffe2
batch_sparse_to_dense_op); each is the other's gradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type

FLOATS = (np.float32, np.float64)  # Caffe2 registered float; float64 is an addition


def _eq(ok, expr, lhs, rhs, blob):
    if not ok:
        raise ShapeError(f"{expr}. {lhs} vs {rhs}", blob=blob, expected=rhs, found=lhs)


def batch_positions(lengths, indices, last_dim: int) -> np.ndarray:
    """Flat positions row * last_dim + index of every (row, index) pair, with
    Caffe2's checks (lengths and indices already vectors of int32/int64)."""
    total = int(lengths.sum(dtype=np.int64))
    _eq(
        total == indices.shape[0],
        "lengths_sum == indices.numel()",
        total,
        indices.shape[0],
        "lengths",
    )
    if lengths.size and lengths.min() < 0:
        raise EnforceError(
            "lengths must be non-negative",
            blob="lengths",
            expected=">= 0",
            found=int(lengths.min()),
        )
    big = np.flatnonzero(indices >= last_dim)
    if big.size:
        raise EnforceError(
            f"An indice ({int(indices[big[0]])}) is larger then last dim of dense "
            f"({last_dim}).",
            blob="indices",
            expected=f"< {last_dim}",
            found=int(indices[big[0]]),
        )
    neg = np.flatnonzero(indices < 0)
    if neg.size:  # Caffe2 wrote before the row (undefined)
        raise EnforceError(
            f"An indice ({int(indices[neg[0]])}) is negative.",
            blob="indices",
            expected=">= 0",
            found=int(indices[neg[0]]),
        )
    rows = np.repeat(np.arange(lengths.shape[0], dtype=np.int64), lengths)
    return rows * last_dim + indices.astype(np.int64)


def _common_checks(lengths, indices):
    check_index_type(lengths, "lengths")
    check_index_type(indices, "indices")
    _eq(lengths.ndim == 1, "lengths.dim() == 1", lengths.ndim, 1, "lengths")
    _eq(indices.ndim == 1, "indices.dim() == 1", indices.ndim, 1, "indices")


def _to_dense_shape(
    lengths, indices, values, shaper=None, *, dense_last_dim, default_value
):
    rows = lengths.dims[0] if lengths.dims else "len(lengths)"
    if shaper is not None and shaper.dims is not None and len(shaper.dims) == 2:
        last = shaper.dims[1]
    else:
        last = dense_last_dim if dense_last_dim >= 1 else "dense_last_dim"
    return (TensorShape((rows, last), values.dtype),)


@register_cpu_operator(
    "BatchSparseToDense",
    inputs=["lengths", "indices", "values", "output_shape_inference"],
    outputs=["dense"],
    num_inputs=(3, 4),
    args=[
        Arg("dense_last_dim", int, -1, doc="the output's second dimension"),
        Arg("default_value", float, 0.0, doc="the value of missing entries"),
    ],
    shape=_to_dense_shape,
    example=Example(
        {
            "lengths": np.array([2, 3, 1], np.int64),
            "indices": np.array([0, 1, 2, 3, 4, 5], np.int64),
            "values": np.array([6, 7, 8, 9, 10, 11], np.float32),
        },
        {
            "dense": np.array(
                [[6, 7, 0, 0, 0, 0], [0, 0, 8, 9, 10, 0], [0, 0, 0, 0, 0, 11]],
                np.float32,
            )
        },
        args={"dense_last_dim": 6},
    ),
    doc="""Write a batch of sparse rows into a dense matrix of shape (len(lengths),
dense_last_dim): row i holds the next lengths[i] (index, value) pairs; other
entries are default_value. dense_last_dim comes from the argument or, with the
fourth input, from that 2-D tensor's second dimension (the op then keeps it for
later runs, as Caffe2 did); the two must agree when both are given. lengths and
indices are int32 or int64 vectors, values a float32 vector of len(indices); every
index must lie in [0, dense_last_dim) (Caffe2 checked only the upper end); a
repeated index in a row keeps its last value.

Example: lengths=[2, 3, 1], indices=[0, 1, 2, 3, 4, 5], values=[6, 7, 8, 9, 10, 11],
dense_last_dim=6 -> dense=[[6, 7, 0, 0, 0, 0], [0, 0, 8, 9, 10, 0],
[0, 0, 0, 0, 0, 11]]""",
)
def batch_sparse_to_dense(
    lengths, indices, values, *shaper, dense_last_dim, default_value, state
):
    """The dense matrix of a batch of sparse rows."""
    _eq(
        indices.size == values.size,
        "indices.numel() == values.numel()",
        indices.size,
        values.size,
        "values",
    )
    _common_checks(lengths, indices)
    check_dtype(values, "values", *FLOATS)
    last = state.get("dense_last_dim", dense_last_dim)
    if shaper:
        _eq(
            shaper[0].ndim == 2,
            "shaper.dim() == 2",
            shaper[0].ndim,
            2,
            "output_shape_inference",
        )
        if last == -1:
            last = shaper[0].shape[1]
        elif last != shaper[0].shape[1]:
            raise EnforceError(
                "The last dim argument is not aligned with the shape input last dim",
                blob="output_shape_inference",
                expected=last,
                found=shaper[0].shape[1],
            )
    elif last < 1:
        raise EnforceError(
            "The last dim of dense must be >= 1",
            arg="dense_last_dim",
            expected=">= 1",
            found=last,
        )
    flat = batch_positions(lengths, indices, last)
    state["dense_last_dim"] = last
    out = np.full(lengths.shape[0] * last, default_value, values.dtype)
    keep = flat.size - 1 - np.unique(flat[::-1], return_index=True)[1]
    out[flat[keep]] = values.reshape(-1)[keep]
    return (out.reshape(lengths.shape[0], last),)


@register_gradient("BatchSparseToDense")
def batch_sparse_to_dense_gradient(g):
    """BatchDenseToSparse([lengths, indices, dense_grad]) -> values_grad."""
    return [g.op_def("BatchDenseToSparse", [g.I(0), g.I(1), g.GO(0)], [g.GI(2)])]


def _to_sparse_shape(lengths, indices, dense):
    return (TensorShape(indices.dims, dense.dtype),)


@register_cpu_operator(
    "BatchDenseToSparse",
    inputs=["lengths", "indices", "dense"],
    outputs=["values"],
    shape=_to_sparse_shape,
    example=Example(
        {
            "lengths": np.array([2, 3, 1], np.int64),
            "indices": np.array([0, 1, 2, 3, 4, 5], np.int64),
            "dense": np.array(
                [[6, 7, 0, 0, 0, 0], [0, 0, 8, 9, 10, 0], [0, 0, 0, 0, 0, 11]],
                np.float32,
            ),
        },
        {"values": np.array([6, 7, 8, 9, 10, 11], np.float32)},
    ),
    doc="""The inverse of BatchSparseToDense (and its gradient op): read, for each
row i of the 2-D float32 `dense` (len(lengths) rows), the entries at the next
lengths[i] indices. lengths and indices are int32 or int64 vectors; every index
must lie in [0, dense.shape[1]). `values` has the shape of indices.

Example: lengths=[2, 3, 1], indices=[0, 1, 2, 3, 4, 5], dense=[[6, 7, 0, 0, 0, 0],
[0, 0, 8, 9, 10, 0], [0, 0, 0, 0, 0, 11]] -> values=[6, 7, 8, 9, 10, 11]""",
)
def batch_dense_to_sparse(lengths, indices, dense):
    """The entries of ``dense`` at each row's indices."""
    _common_checks(lengths, indices)
    _eq(dense.ndim == 2, "dense.dim() == 2", dense.ndim, 2, "dense")
    check_dtype(dense, "dense", *FLOATS)
    total = int(lengths.sum(dtype=np.int64))
    _eq(
        total == indices.shape[0],
        "lengths_sum == indices.numel()",
        total,
        indices.shape[0],
        "lengths",
    )
    _eq(
        lengths.shape[0] == dense.shape[0],
        "batch_size == dense.size(0)",
        lengths.shape[0],
        dense.shape[0],
        "dense",
    )
    flat = batch_positions(lengths, indices, dense.shape[1])
    return (dense.reshape(-1)[flat].reshape(indices.shape),)


@register_gradient("BatchDenseToSparse")
def batch_dense_to_sparse_gradient(g):
    """BatchSparseToDense([lengths, indices, values_grad, dense]) -> dense_grad."""
    return [
        g.op_def("BatchSparseToDense", [g.I(0), g.I(1), g.GO(0), g.I(2)], [g.GI(2)])
    ]
