"""SortedSegmentMean and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def sorted_segment_mean(data, segment_ids):
    """SortedSegmentMean: per-segment mean."""
    return (reduce_segments(data, None, segment_ids, sorted_ids=True, mean=True),)


def sorted_segment_mean_gradient(segment_grads, segment_ids):
    """SortedSegmentMeanGradient: each row gets its segment's gradient / length."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=True, mean=True),)


register_segment_op(
    "Mean",
    sparse=False,
    sorted_ids=True,
    example_ids=[0, 0, 1],
    output=[[2, 3], [5, 6]],
    gradient_output=[[0.5, 1], [0.5, 1], [3, 4]],
    kernel=sorted_segment_mean,
    gradient_kernel=sorted_segment_mean_gradient,
    doc="""Take the mean of the rows of DATA per segment.

SEGMENT_IDS (int32, one per row of DATA) must be sorted, start at 0 and have no
gaps; OUTPUT has SEGMENT_IDS[-1] + 1 rows (0 when SEGMENT_IDS is empty).

A segment's sum is divided by its number of rows.

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

Its gradient is SortedSegmentMeanGradient.

Example: DATA=[[1, 2], [3, 4], [5, 6]], SEGMENT_IDS=[0, 0, 1] -> OUTPUT=[[2, 3], [5, 6]]""",
)
