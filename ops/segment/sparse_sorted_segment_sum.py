"""SparseSortedSegmentSum and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def sparse_sorted_segment_sum(data, indices, segment_ids):
    """SparseSortedSegmentSum: per-segment sum."""
    return (reduce_segments(data, indices, segment_ids, sorted_ids=True, mean=False),)


def sparse_sorted_segment_sum_gradient(segment_grads, segment_ids):
    """SparseSortedSegmentSumGradient: each row gets its segment's gradient."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=True, mean=False),)


register_segment_op(
    "Sum",
    sparse=True,
    sorted_ids=True,
    example_ids=[0, 0, 1],
    output=[[6, 8], [5, 6]],
    gradient_output=[[1, 2], [1, 2], [3, 4]],
    kernel=sparse_sorted_segment_sum,
    gradient_kernel=sparse_sorted_segment_sum_gradient,
    doc="""Gather rows of DATA by INDICES (int32 or int64, a vector) and take the sum of
the gathered rows per segment: Gather and SortedSegmentSum fused.

SEGMENT_IDS (int32, one per looked-up row) must be sorted, start at 0 and have no
gaps; OUTPUT has SEGMENT_IDS[-1] + 1 rows (0 when SEGMENT_IDS is empty).

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

An index outside DATA's rows is an error.

Its gradient is SortedSegmentSumGradient (sparse: the values for INDICES).

Example: DATA=[[1, 2], [3, 4], [5, 6]], INDICES=[2, 0, 2], SEGMENT_IDS=[0, 0, 1] -> OUTPUT=[[6, 8], [5, 6]]""",
)
