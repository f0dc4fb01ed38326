"""SparseSortedSegmentMean and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def sparse_sorted_segment_mean(data, indices, segment_ids):
    """SparseSortedSegmentMean: per-segment mean."""
    return (reduce_segments(data, indices, segment_ids, sorted_ids=True, mean=True),)


def sparse_sorted_segment_mean_gradient(segment_grads, segment_ids):
    """SparseSortedSegmentMeanGradient: each row gets its segment's gradient / length."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=True, mean=True),)


register_segment_op(
    "Mean",
    sparse=True,
    sorted_ids=True,
    example_ids=[0, 0, 1],
    output=[[3, 4], [5, 6]],
    gradient_output=[[0.5, 1], [0.5, 1], [3, 4]],
    kernel=sparse_sorted_segment_mean,
    gradient_kernel=sparse_sorted_segment_mean_gradient,
    doc="""Gather rows of DATA by INDICES (int32 or int64, a vector) and take the mean of
the gathered rows per segment: Gather and SortedSegmentMean fused.

SEGMENT_IDS (int32, one per looked-up row) must be sorted, start at 0 and have no
gaps; OUTPUT has SEGMENT_IDS[-1] + 1 rows (0 when SEGMENT_IDS is empty).

A segment's sum is divided by its number of rows.

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

An index outside DATA's rows is an error.

Its gradient is SortedSegmentMeanGradient (sparse: the values for INDICES).

Example: DATA=[[1, 2], [3, 4], [5, 6]], INDICES=[2, 0, 2], SEGMENT_IDS=[0, 0, 1] -> OUTPUT=[[3, 4], [5, 6]]""",
)
