"""LengthsToRanges: segment lengths to (offset, length) pairs (Caffe2 utility_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape


def _ranges_shape(lengths: TensorShape) -> tuple[TensorShape]:
    """(len(lengths), 2) int32 (Caffe2's LengthsToRanges inference)."""
    if lengths.dims is None:
        return (TensorShape(None, np.int32),)
    return (TensorShape(tuple(lengths.dims) + (2,), np.int32),)


@register_cpu_operator(
    "LengthsToRanges",
    inputs=["lengths"],
    outputs=["ranges"],
    shape=_ranges_shape,
    example=Example(
        {"lengths": np.array([1, 3, 0, 2], np.int32)},
        {"ranges": np.array([[0, 1], [1, 3], [4, 0], [4, 2]], np.int32)},
    ),
    doc="""Offsets of consecutive segments packed next to their lengths.

lengths is a 1-D int32 tensor; ranges is int32 of shape (len(lengths), 2) holding
(offset, length) per segment, offset being the sum of the lengths before it.

Example: lengths=[1, 3, 0, 2] -> ranges=[[0, 1], [1, 3], [4, 0], [4, 2]]""",
)
def lengths_to_ranges(lengths):
    """(offset, length) rows for consecutive segments."""
    check_dtype(lengths, "lengths", np.int32)
    check_ndim(lengths, "lengths", 1, "Input must be a vector.")
    ends = np.cumsum(lengths, dtype=np.int32)
    return (np.stack([ends - lengths, lengths], axis=1),)


# No gradient was registered for LengthsToRanges in Caffe2 (its output is integer
# offsets), so reaching it in a backward pass is an error.
should_not_do_gradient("LengthsToRanges")
