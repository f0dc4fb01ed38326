"""UnsortedSegmentSum and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def unsorted_segment_sum(data, segment_ids, *, num_segments):
    """UnsortedSegmentSum: per-segment sum."""
    return (
        reduce_segments(
            data,
            None,
            segment_ids,
            sorted_ids=False,
            mean=False,
            num_segments=num_segments,
        ),
    )


def unsorted_segment_sum_gradient(segment_grads, segment_ids):
    """UnsortedSegmentSumGradient: each row gets its segment's gradient."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=False, mean=False),)


register_segment_op(
    "Sum",
    sparse=False,
    sorted_ids=False,
    example_ids=[1, 0, 1],
    output=[[3, 4], [6, 8]],
    gradient_output=[[3, 4], [1, 2], [3, 4]],
    kernel=unsorted_segment_sum,
    gradient_kernel=unsorted_segment_sum_gradient,
    doc="""Take the sum of the rows of DATA per segment.

SEGMENT_IDS (int32, one per row of DATA) may come in any order; OUTPUT has
num_segments rows when that argument is given, else max(SEGMENT_IDS) + 1, and a
segment with no rows gives 0. Each id must lie in [0, rows).

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

Its gradient is UnsortedSegmentSumGradient.

Example: DATA=[[1, 2], [3, 4], [5, 6]], SEGMENT_IDS=[1, 0, 1] -> OUTPUT=[[3, 4], [6, 8]]""",
)
