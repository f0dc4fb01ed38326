"""LengthsRangeFill: 0, 1, ..., length-1 for every segment (Caffe2 filler_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, check_lengths, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape


@register_cpu_operator(
    "LengthsRangeFill",
    inputs=["lengths"],
    outputs=["range_sequence"],
    shape=lambda lengths: (TensorShape(("sum(lengths)",), np.int32),),
    example=Example(
        {"lengths": np.array([4, 3, 1], np.int32)},
        {"range_sequence": np.array([0, 1, 2, 3, 0, 1, 2, 0], np.int32)},
    ),
    doc="""Convert a vector of lengths to a range sequence.

lengths is a 1-D int32 tensor; range_sequence is int32 of length sum(lengths), the
concatenation of 0..length-1 for every length.

Example: lengths=[4, 3, 1] -> range_sequence=[0, 1, 2, 3, 0, 1, 2, 0]""",
)
def lengths_range_fill(lengths):
    """The position of every element inside its segment."""
    check_dtype(lengths, "lengths", np.int32)
    check_ndim(lengths, "lengths", 1, "Input must be a vector.")
    check_lengths(lengths, "lengths")
    ends = np.cumsum(lengths, dtype=np.int32)
    total = int(ends[-1]) if ends.size else 0
    starts = np.repeat(ends - lengths, lengths)
    return (np.arange(total, dtype=np.int32) - starts,)


no_gradient("LengthsRangeFill")
