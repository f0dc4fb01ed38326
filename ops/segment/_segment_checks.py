"""Checks of the Lengths* / SparseLengths* segment operators, with Caffe2's messages.

Not an operator module: the ``lengths_*`` and ``sparse_lengths_*`` op files (and
Gather, GatherRanges, SparseToDense for their index checks) import it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import check_lengths, check_ndim, cpp_type_name

FLOAT_TYPES = (np.float32, np.float64)


def check_segment_lengths(lengths: np.ndarray, blob: str = "LENGTHS") -> None:
    """LENGTHS must be an int32 vector of non-negative values."""
    check_ndim(lengths, blob, 1, "LENGTHS must be a vector")
    check_lengths(lengths, blob)


def check_index_type(indices: np.ndarray, blob: str = "INDICES") -> None:
    """INDICES must be int32 or int64 (Caffe2's DispatchHelper message otherwise)."""
    if not isinstance(indices, np.ndarray) or indices.dtype not in (np.int32, np.int64):
        found = getattr(indices, "dtype", type(indices).__name__)
        raise DTypeError(
            f"Unsupported type of tensor: {cpp_type_name(found)}",
            blob=blob,
            expected="int32 or int64",
            found=str(found),
        )


def check_float_data(
    data: Any,
    blob: str = "DATA",
    message: str | None = None,
    extra: tuple = (),
    rank_message: str = "DATA should be at least 1-D",
) -> None:
    """DATA must be a float tensor of rank >= 1 (float64 is a caffe2lite extension)."""
    allowed = FLOAT_TYPES + tuple(extra)
    if not isinstance(data, np.ndarray) or data.dtype not in allowed:
        found = getattr(data, "dtype", type(data).__name__)
        text = message or "Unsupported input type: {}."
        raise DTypeError(
            text.format(cpp_type_name(found)),
            blob=blob,
            expected=" or ".join(str(np.dtype(t)) for t in allowed),
            found=str(found),
        )
    if data.ndim < 1:
        raise ShapeError(
            rank_message, blob=blob, expected="rank >= 1", found=f"shape {data.shape}"
        )


def check_rows_in_range(
    indices: np.ndarray, limit: int, n: int, blob: str = "INDICES"
) -> None:
    """``indices[:limit]`` must lie in [0, n): SparseLengths*'s bad-index message."""
    head = indices[:limit]
    if head.size and (int(head.min()) < 0 or int(head.max()) >= n):
        pos = int(np.flatnonzero((head < 0) | (head >= n))[0])
        raise EnforceError(
            f"Index {pos} is out of bounds: {int(head[pos])}, range 0 to {n}",
            blob=blob,
            expected=f"0 <= index < {n}",
            found=int(head[pos]),
        )


def check_sum_of_lengths(lengths: np.ndarray, indices: np.ndarray) -> None:
    """sum(LENGTHS) must equal len(INDICES), with Caffe2's message."""
    total = int(lengths.sum(dtype=np.int64))
    if total != indices.shape[0]:
        raise EnforceError(
            "Your input seems to be incorrect: the sum of lengths values should be the "
            "size of the indices tensor, but it appears not.",
            blob="LENGTHS",
            expected=f"sum(LENGTHS) == {indices.shape[0]}",
            found=total,
        )


def check_lengths_cover_data(lengths: np.ndarray, n: int) -> None:
    """Lengths* ops: the segments must cover exactly the n rows of DATA."""
    ends = np.cumsum(lengths, dtype=np.int64)
    total = int(ends[-1]) if ends.size else 0
    if total > n:
        r = int(np.searchsorted(ends, n, side="right"))
        raise EnforceError(
            f"When calculating the {r}th output with length={int(lengths[r])}, the index is "
            f"out of bounds: {n} vs. valid range 0 to {n}",
            blob="LENGTHS",
            expected=f"sum(LENGTHS) == {n}",
            found=total,
        )
    if total != n:
        raise EnforceError(
            f"{total} != {n}",
            blob="LENGTHS",
            expected=f"sum(LENGTHS) == {n}",
            found=total,
        )


def check_segment_grads(grad: np.ndarray, lengths: np.ndarray) -> None:
    """The gradient ops' checks on SEGMENT_GRADS against LENGTHS."""
    check_float_data(
        grad,
        "SEGMENT_GRADS",
        message="Tensor type mismatch, caller expects elements to be float "
        "while tensor contains {}",
        rank_message="segmentGradsInput.dim() > 0",
    )
    if grad.shape[0] != lengths.shape[0]:
        raise EnforceError(
            "numSegments == segmentGrads.dim(0)",
            blob="SEGMENT_GRADS",
            expected=f"first dim {lengths.shape[0]} (len(LENGTHS))",
            found=grad.shape[0],
        )


def check_aux_rows(aux: np.ndarray, blob: str, rows: int, index: int = 0) -> None:
    """An original input of the forward op must have one entry per reduced row."""
    if aux.ndim < 1 or aux.shape[0] != rows:
        raise EnforceError(
            f"Input {index} must have the same first dim as SEGMENT_IDS",
            blob=blob,
            expected=f"first dim {rows} (sum(LENGTHS))",
            found=f"shape {aux.shape}",
        )
