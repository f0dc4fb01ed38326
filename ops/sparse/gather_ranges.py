"""GatherRanges: concatenate ranges of a 1-D tensor (Caffe2 utility_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ..segment._segment_checks import check_index_type


def range_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions start, start+1, ..., start+length-1 of every range, in order."""
    total = int(lengths.sum(dtype=np.int64))
    offsets = np.cumsum(lengths, dtype=np.int64) - lengths
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, lengths)


def _gather_ranges_shape(data: TensorShape, ranges: TensorShape) -> tuple:
    """OUTPUT: 1-D of DATA's type, its length the sum of the ranges' lengths (data);
    LENGTHS: int32, one per example (RANGES' first dimension)."""
    n = None if not ranges.dims else (ranges.dims[0],)
    return (TensorShape(("sum(RANGES lengths)",), data.dtype), TensorShape(n, np.int32))


@register_cpu_operator(
    "GatherRanges",
    inputs=["DATA", "RANGES"],
    outputs=["OUTPUT", "LENGTHS"],
    shape=_gather_ranges_shape,
    example=Example(
        {
            "DATA": np.array([1, 2, 3, 4, 5, 6], np.float32),
            "RANGES": np.array([[[0, 1], [2, 2]], [[4, 1], [5, 1]]], np.int32),
        },
        {
            "OUTPUT": np.array([1, 3, 4, 5, 6], np.float32),
            "LENGTHS": np.array([3, 2], np.int32),
        },
    ),
    doc="""Gather ranges of DATA (1-D, any type) into one 1-D OUTPUT.

RANGES (int32 or int64) has shape (N, M, 2): for each of N examples, M ranges given
as (start, length). OUTPUT concatenates DATA[start:start+length] over all ranges in
order; LENGTHS (int32, N) holds each example's total length.

Example: DATA=[1, 2, 3, 4, 5, 6], RANGES=[[[0, 1], [2, 2]], [[4, 1], [5, 1]]]
-> OUTPUT=[1, 3, 4, 5, 6], LENGTHS=[3, 2]""",
)
def gather_ranges(data, ranges):
    """Concatenated ranges of DATA and the per-example lengths."""
    check_index_type(ranges, "RANGES")
    if data.ndim != 1:
        raise ShapeError(
            "Data has to be 1-D",
            blob="DATA",
            expected="1-D",
            found=f"shape {data.shape}",
        )
    if ranges.ndim != 3:
        raise ShapeError(
            "Ranges must be 3-D",
            blob="RANGES",
            expected="3-D",
            found=f"shape {ranges.shape}",
        )
    if ranges.shape[1] == 0:
        raise ShapeError(
            "There has to be at least one range",
            blob="RANGES",
            expected="shape (N, M > 0, 2)",
            found=f"shape {ranges.shape}",
        )
    if ranges.shape[2] != 2:
        raise ShapeError(
            "Ranges last dimention should be of size 2",
            blob="RANGES",
            expected="shape (N, M, 2)",
            found=f"shape {ranges.shape}",
        )
    starts = ranges[:, :, 0].reshape(-1).astype(np.int64)
    lengths = ranges[:, :, 1].reshape(-1).astype(np.int64)
    used = lengths != 0
    if (starts[used] < 0).any() or (lengths < 0).any():
        bad = int(np.flatnonzero((used & (starts < 0)) | (lengths < 0))[0])
        raise EnforceError(
            "Range start and length must be non-negative",
            blob="RANGES",
            expected="start >= 0 and length >= 0",
            found=f"range {bad}: ({starts[bad]}, {lengths[bad]})",
        )
    over = used & (starts + lengths > data.shape[0])
    if over.any():
        bad = int(np.flatnonzero(over)[0])
        raise EnforceError(
            "rangeStart + rangeLength <= data.numel()",
            blob="RANGES",
            expected=f"start + length <= {data.shape[0]}",
            found=f"range {bad}: ({starts[bad]}, {lengths[bad]})",
        )
    out_lengths = lengths.reshape(ranges.shape[:2]).sum(axis=1).astype(np.int32)
    return data[range_positions(starts, lengths)], out_lengths


# Caffe2 meant SHOULD_NOT_DO_GRADIENT(GatherRanges) but registered it under the
# misspelt name "GatherRangesOp"; either way asking for the gradient is an error.
should_not_do_gradient("GatherRanges")
