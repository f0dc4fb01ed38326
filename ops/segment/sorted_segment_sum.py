"""SortedSegmentSum and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def sorted_segment_sum(data, segment_ids):
    """SortedSegmentSum: per-segment sum."""
    return (reduce_segments(data, None, segment_ids, sorted_ids=True, mean=False),)


def sorted_segment_sum_gradient(segment_grads, segment_ids):
    """SortedSegmentSumGradient: each row gets its segment's gradient."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=True, mean=False),)


register_segment_op(
    "Sum",
    sparse=False,
    sorted_ids=True,
    example_ids=[0, 0, 1],
    output=[[4, 6], [5, 6]],
    gradient_output=[[1, 2], [1, 2], [3, 4]],
    kernel=sorted_segment_sum,
    gradient_kernel=sorted_segment_sum_gradient,
    doc="""Take the sum of the rows of DATA per segment.

SEGMENT_IDS (int32, one per row of DATA) must be sorted, start at 0 and have no
gaps; OUTPUT has SEGMENT_IDS[-1] + 1 rows (0 when SEGMENT_IDS is empty).

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

Its gradient is SortedSegmentSumGradient.

Example: DATA=[[1, 2], [3, 4], [5, 6]], SEGMENT_IDS=[0, 0, 1] -> OUTPUT=[[4, 6], [5, 6]]""",
)
