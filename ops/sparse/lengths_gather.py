"""LengthsGather: gather whole segments of items by segment index (Caffe2
utility_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type


def _shape(items, lengths, indices):
    if items.dims is None or not items.dims:
        return (TensorShape(None, items.dtype),)
    return (
        TensorShape(("sum(LENGTHS[INDICES])",) + tuple(items.dims[1:]), items.dtype),
    )


@register_cpu_operator(
    "LengthsGather",
    inputs=["ITEMS", "LENGTHS", "INDICES"],
    outputs=["OUTPUT"],
    shape=_shape,
    example=Example(
        {
            "ITEMS": np.arange(10, dtype=np.int64),
            "LENGTHS": np.array([0, 2, 3, 1, 4], np.int32),
            "INDICES": np.array([0, 2, 4], np.int64),
        },
        {"OUTPUT": np.array([2, 3, 4, 6, 7, 8, 9], np.int64)},
    ),
    doc="""Gather whole segments of a sparse list: ITEMS (any type, at least 1-D) is
split into consecutive segments by LENGTHS (int32, summing to ITEMS.shape[0]), and
OUTPUT concatenates the segments named by INDICES (int32 or int64), in that order.
OUTPUT's lengths are not returned (use Gather on LENGTHS for them). An index
outside [0, len(LENGTHS)) is an error (Caffe2 checked only the upper end).

Example: ITEMS=[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], LENGTHS=[0, 2, 3, 1, 4],
INDICES=[0, 2, 4] -> OUTPUT=[2, 3, 4, 6, 7, 8, 9]""",
)
def lengths_gather(items, lengths, indices):
    """The segments of ITEMS named by INDICES, concatenated."""
    check_index_type(indices)
    if not isinstance(items, np.ndarray) or items.ndim < 1:
        raise ShapeError(
            "items.dim() >= 1. 0 vs 1. ITEMS should be at least 1-D",
            blob="ITEMS",
            expected="rank >= 1",
            found=getattr(items, "shape", None),
        )
    for arr, name in ((lengths, "LENGTHS"), (indices, "INDICES")):
        if arr.ndim != 1:
            raise ShapeError(
                f"{name.lower()}.dim() == 1. {arr.ndim} vs 1. {name} should be 1-D",
                blob=name,
                expected="1-D",
                found=f"shape {arr.shape}",
            )
    check_dtype(lengths, "LENGTHS", np.int32)
    idx = indices.astype(np.int64)
    big = np.flatnonzero(idx >= lengths.shape[0])
    if big.size:
        raise EnforceError(
            f"idx < lengths.numel(). {int(idx[big[0]])} vs {lengths.shape[0]}",
            blob="INDICES",
            expected=f"< {lengths.shape[0]}",
            found=int(idx[big[0]]),
        )
    neg = np.flatnonzero(idx < 0)
    if neg.size:  # Caffe2 read before LENGTHS
        raise EnforceError(
            f"Index out of bounds: {int(idx[neg[0]])}",
            blob="INDICES",
            expected=">= 0",
            found=int(idx[neg[0]]),
        )
    if lengths.size and lengths.min() < 0:
        raise EnforceError(
            "LENGTHS must be non-negative",
            blob="LENGTHS",
            expected=">= 0",
            found=int(lengths.min()),
        )
    ends = np.cumsum(lengths, dtype=np.int64)
    total = int(ends[-1]) if ends.size else 0
    if items.shape[0] != total:
        raise EnforceError(
            f"items.size(0) == running_offset. {items.shape[0]} vs {total}. LENGTHS must "
            "match the first dimension of ITEMS",
            blob="LENGTHS",
            expected=f"sum {items.shape[0]}",
            found=total,
        )
    starts = (ends - lengths)[idx]
    picked = lengths[idx].astype(np.int64)
    out_ends = np.cumsum(picked)
    positions = np.arange(int(out_ends[-1]) if out_ends.size else 0, dtype=np.int64)
    positions += np.repeat(starts - (out_ends - picked), picked)
    return (items[positions],)


should_not_do_gradient("LengthsGather")
