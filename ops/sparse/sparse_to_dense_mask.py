"""SparseToDenseMask and its gradient op SparseToDenseMaskGradient (Caffe2
sparse_to_dense_mask_op)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type

_ARGS = [
    Arg("mask", "ints", [], doc="the ids kept, in output order"),
    Arg("return_presence_mask", bool, False, doc="also output which ids were present"),
    Arg(
        "max_skipped_indices",
        int,
        50,
        doc="how many rows with invalid (negative) ids may be skipped over the op's life",
    ),
]


def _eq(ok: bool, expr: str, lhs: Any, rhs: Any, blob: str) -> None:
    if not ok:
        raise ShapeError(f"{expr}. {lhs} vs {rhs}", blob=blob, expected=rhs, found=lhs)


def mask_positions(mask: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The mask sorted, and the output column of each sorted id; Caffe2's argument
    checks (made when the op was created) with its messages."""
    if not mask:
        raise ArgumentError("mask can't be empty", arg="mask")
    ids = np.array(mask, np.int64)
    if ids.min() < 0:
        bad = int(ids[ids < 0][0])
        raise ArgumentError(
            f"id >= 0. {bad} vs 0. Only positive IDs are allowed.",
            arg="mask",
            expected="ids >= 0",
            found=bad,
        )
    order = np.argsort(ids, kind="stable")
    ranked = ids[order]
    dup = np.flatnonzero(ranked[1:] == ranked[:-1])
    if dup.size:
        raise ArgumentError(
            f"Duplicated id: {int(ranked[dup[0]])}",
            arg="mask",
            found=int(ranked[dup[0]]),
        )
    return ranked, order


def feature_columns(indices: np.ndarray, mask: list[int]) -> np.ndarray:
    """The output column of each index (-1 when the id is not in the mask)."""
    ranked, order = mask_positions(mask)
    ids = indices.astype(np.int64)
    at = np.minimum(np.searchsorted(ranked, ids), ranked.size - 1)
    return np.where(ranked[at] == ids, order[at], -1)


def _rows(indices: np.ndarray, lengths: np.ndarray | None) -> tuple[int, np.ndarray]:
    """(rows, the row of each index; -1 for indices past sum(LENGTHS))."""
    n = indices.shape[0]
    if lengths is None:
        return 1, np.zeros(n, np.int64)
    total = int(lengths.sum(dtype=np.int64))
    if total > n:
        # Caffe2 read past the end of indices.
        raise EnforceError(
            "the sum of lengths exceeds the number of indices",
            blob="lengths",
            expected=f"sum(lengths) <= {n}",
            found=total,
        )
    row = np.full(n, -1, np.int64)
    row[:total] = np.repeat(np.arange(lengths.shape[0]), lengths)
    return lengths.shape[0], row


def _check_lengths(lengths: np.ndarray) -> None:
    _eq(lengths.ndim == 1, "lengths.dim() == 1", lengths.ndim, 1, "lengths")
    check_dtype(lengths, "lengths", np.int32)
    if lengths.size and lengths.min() < 0:
        raise EnforceError(
            "lengths must be non-negative",
            blob="lengths",
            expected=">= 0",
            found=int(lengths.min()),
        )


def _shape(
    indices,
    values,
    default_value,
    lengths=None,
    *,
    mask,
    return_presence_mask,
    num_outputs,
):
    lead = (
        ()
        if lengths is None
        else ((lengths.dims[0],) if lengths.dims else ("len(lengths)",))
    )
    lead = lead + (len(mask),)
    dims = None if default_value.dims is None else lead + tuple(default_value.dims)
    out = [TensorShape(dims, values.dtype)]
    if num_outputs > 1:
        out.append(TensorShape(lead, np.bool_))
    return tuple(out)


@register_cpu_operator(
    "SparseToDenseMask",
    inputs=["indices", "values", "default_value", "lengths"],
    outputs=["output", "presence_mask"],
    num_inputs=(3, 4),
    num_outputs=(1, 2),
    args=_ARGS,
    shape=_shape,
    example=Example(
        {
            "indices": np.array([7, 3, 9, 3, 5], np.int64),
            "values": np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32),
            "default_value": np.array(-1.0, np.float32),
            "lengths": np.array([3, 2], np.int32),
        },
        {
            "output": np.array([[2, 1, -1], [4, -1, 5]], np.float32),
            "presence_mask": np.array([[True, True, False], [True, False, True]]),
        },
        args={"mask": [3, 7, 5], "return_presence_mask": True},
    ),
    doc="""Scatter a sparse map id -> value into a dense tensor whose columns are the
ids listed in the `mask` argument: output[..., j, :] = values[i] where
indices[i] == mask[j], default_value where mask[j] is absent. With `lengths`
(int32) the indices and values are split into rows and the output gets a leading
dimension len(lengths); without it the output starts with len(mask).

indices is an int32 or int64 vector, values has one slice per index, and
default_value has values' type and the shape of one slice. When an id appears twice
in a row the last value wins; ids not in the mask are ignored; negative ids are
skipped with a warning, and once `max_skipped_indices` rows (counted over the op's
life) contained one, the op fails. With return_presence_mask a second, bool output
says which (row, id) pairs were present. The mask must be non-empty, of distinct
non-negative ids.

Example: indices=[7, 3, 9, 3, 5], values=[1, 2, 3, 4, 5], default_value=-1,
lengths=[3, 2], mask=[3, 7, 5], return_presence_mask=1 -> output=[[2, 1, -1],
[4, -1, 5]], presence_mask=[[True, True, False], [True, False, True]]""",
)
def sparse_to_dense_mask(
    indices,
    values,
    default_value,
    *maybe_lengths,
    mask,
    return_presence_mask,
    max_skipped_indices,
    num_outputs,
    state,
):
    """Dense rows of the masked ids' values."""
    check_index_type(indices, "indices")
    _eq(indices.ndim == 1, "sparse_indices.dim() == 1", indices.ndim, 1, "indices")
    if not isinstance(values, np.ndarray) or values.ndim < 1:
        raise ShapeError(
            "sparse_values.dim() >= 1",
            blob="values",
            expected=">= 1-D",
            found=getattr(values, "shape", type(values).__name__),
        )
    _eq(
        indices.shape[0] == values.shape[0],
        "sparse_indices.numel() == sparse_values.size(0)",
        indices.shape[0],
        values.shape[0],
        "values",
    )
    if not isinstance(default_value, np.ndarray):
        raise DTypeError(
            "expected a tensor",
            blob="default_value",
            expected="a numpy array",
            found=type(default_value).__name__,
        )
    _eq(
        default_value.ndim + 1 == values.ndim,
        "default_value.dim() + 1 == sparse_values.dim()",
        default_value.ndim + 1,
        values.ndim,
        "default_value",
    )
    _eq(
        default_value.size == int(np.prod(values.shape[1:])),
        "default_value.numel() == sparse_values.size_from_dim(1)",
        default_value.size,
        int(np.prod(values.shape[1:])),
        "default_value",
    )
    if values.dtype != default_value.dtype:
        raise DTypeError(
            "sparse_values.dtype() == default_value.dtype()",
            blob="default_value",
            expected=str(values.dtype),
            found=str(default_value.dtype),
        )
    lengths = maybe_lengths[0] if maybe_lengths else None
    if lengths is not None:
        _check_lengths(lengths)
    columns = feature_columns(indices, mask)
    rows, row = _rows(indices, lengths)
    cols = len(mask)
    limit = np.iinfo(indices.dtype).max
    invalid = (indices < 0) | (indices >= limit)
    invalid &= row >= 0
    skipped_rows = np.zeros(rows, np.int64)
    np.add.at(skipped_rows, row[invalid], 1)
    running = int(state.get("skipped", 0)) + np.cumsum(skipped_rows > 0)
    over = np.flatnonzero(running >= max_skipped_indices)
    if over.size:
        state["skipped"] = int(running[over[0]])
        raise EnforceError(
            f"skippedRows_ < maxSkippedRows_. {int(running[over[0]])} vs "
            f"{max_skipped_indices}. Too many rows with invalid sparse indices skipped",
            expected=f"fewer than {max_skipped_indices} rows with invalid ids",
            found=int(running[over[0]]),
        )
    if rows:
        state["skipped"] = int(running[-1])
    keep = np.flatnonzero(~invalid & (row >= 0) & (columns >= 0))
    target = row[keep] * cols + columns[keep]
    # The last value of an id in a row wins: keep each target's last position.
    last = keep.size - 1 - np.unique(target[::-1], return_index=True)[1]
    slice_shape = default_value.shape
    out = np.empty((rows * cols,) + slice_shape, values.dtype)
    out[...] = default_value
    out[target[last]] = values[keep[last]]
    lead = (rows, cols) if lengths is not None else (cols,)
    result = [out.reshape(lead + slice_shape)]
    if num_outputs > 1:
        present = np.zeros(rows * cols, np.bool_)
        present[target] = True
        result.append(present.reshape(lead))
    return tuple(result)


@register_gradient("SparseToDenseMask")
def sparse_to_dense_mask_gradient_maker(g):
    """SparseToDenseMaskGradient([indices, output_grad(, lengths)]) -> values_grad."""
    inputs = [g.I(0), g.GO(0)] + ([g.I(3)] if len(g.def_.input) == 4 else [])
    return [g.op_def("SparseToDenseMaskGradient", inputs, [g.GI(1)])]


def _grad_shape(indices, goutput, lengths=None, **kwargs):
    skip = 1 if lengths is None else 2
    n = indices.dims[0] if indices.dims else "len(indices)"
    if goutput.dims is None:
        return (TensorShape(None, goutput.dtype),)
    return (TensorShape((n,) + tuple(goutput.dims[skip:]), goutput.dtype),)


@register_cpu_operator(
    "SparseToDenseMaskGradient",
    inputs=["indices", "goutput", "lengths"],
    outputs=["gvalues"],
    num_inputs=(2, 3),
    args=[_ARGS[0]],
    shape=_grad_shape,
    example=Example(
        {
            "indices": np.array([7, 3, 9, 3, 5], np.int64),
            "goutput": np.array([[10, 20, 30], [40, 50, 60]], np.float32),
            "lengths": np.array([3, 2], np.int32),
        },
        {"gvalues": np.array([20, 10, 0, 40, 60], np.float32)},
        args={"mask": [3, 7, 5]},
    ),
    doc="""Gradient of SparseToDenseMask for `values`: each index gets the output
gradient of its (row, id) cell, but only the last occurrence of an id in a row
(the one whose value was kept); other indices, and ids not in the mask, get 0.
Without `lengths` goutput has shape (len(mask),) + slice, with it (len(lengths),
len(mask)) + slice. The gradient of default_value is not computed (as in Caffe2).

Example: indices=[7, 3, 9, 3, 5], goutput=[[10, 20, 30], [40, 50, 60]],
lengths=[3, 2], mask=[3, 7, 5] -> gvalues=[20, 10, 0, 40, 60]""",
)
def sparse_to_dense_mask_gradient(indices, goutput, *maybe_lengths, mask):
    """The kept indices' cells of the output gradient."""
    check_index_type(indices, "indices")
    _eq(indices.ndim == 1, "sparse_indices.dim() == 1", indices.ndim, 1, "indices")
    lengths = maybe_lengths[0] if maybe_lengths else None
    cols = len(mask)
    if lengths is not None:
        _check_lengths(lengths)
        _eq(goutput.ndim >= 2, "gradient_output.dim() >= 2", goutput.ndim, 2, "goutput")
        _eq(
            goutput.shape[0] == lengths.shape[0],
            "gradient_output.size(0) == rows",
            goutput.shape[0],
            lengths.shape[0],
            "goutput",
        )
        _eq(
            goutput.shape[1] == cols,
            "gradient_output.size(1) == cols",
            goutput.shape[1],
            cols,
            "goutput",
        )
        tail = goutput.shape[2:]
    else:
        _eq(goutput.ndim >= 1, "gradient_output.dim() >= 1", goutput.ndim, 1, "goutput")
        _eq(
            goutput.shape[0] == cols,
            "gradient_output.size(0) == cols",
            goutput.shape[0],
            cols,
            "goutput",
        )
        tail = goutput.shape[1:]
    columns = feature_columns(indices, mask)
    rows, row = _rows(indices, lengths)
    keep = np.flatnonzero((row >= 0) & (columns >= 0) & (indices >= 0))
    target = row[keep] * cols + columns[keep]
    last = keep.size - 1 - np.unique(target[::-1], return_index=True)[1]
    flat = goutput.reshape((rows * cols,) + tail)
    out = np.zeros((indices.shape[0],) + tail, goutput.dtype)
    out[keep[last]] = flat[target[last]]
    return (out,)


gradient_not_implemented_yet("SparseToDenseMaskGradient")
