"""LengthsToSegmentIds: segment lengths to one segment id per element (Caffe2
utility_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, check_lengths, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape


@register_cpu_operator(
    "LengthsToSegmentIds",
    inputs=["lengths"],
    outputs=["segment_ids"],
    shape=lambda lengths: (TensorShape(("sum(lengths)",), np.int32),),
    example=Example(
        {"lengths": np.array([1, 3, 0, 2], np.int32)},
        {"segment_ids": np.array([0, 1, 1, 1, 3, 3], np.int32)},
    ),
    doc="""A zero-based, consecutive vector of segment ids, lengths[i] copies of i.

lengths is a 1-D int32 tensor; segment_ids is int32 of length sum(lengths). The
inverse is SegmentIdsToLengths, except that trailing empty segments cannot be
recovered.

Example: lengths=[1, 3, 0, 2] -> segment_ids=[0, 1, 1, 1, 3, 3]""",
)
def lengths_to_segment_ids(lengths):
    """Segment id of every element of the concatenated segments."""
    check_dtype(lengths, "lengths", np.int32)
    check_ndim(lengths, "lengths", 1, "Input must be a vector.")
    check_lengths(lengths, "lengths")
    return (np.repeat(np.arange(lengths.shape[0], dtype=np.int32), lengths),)


should_not_do_gradient("LengthsToSegmentIds")
