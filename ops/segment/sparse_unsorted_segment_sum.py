"""SparseUnsortedSegmentSum and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def sparse_unsorted_segment_sum(data, indices, segment_ids, *, num_segments):
    """SparseUnsortedSegmentSum: per-segment sum."""
    return (
        reduce_segments(
            data,
            indices,
            segment_ids,
            sorted_ids=False,
            mean=False,
            num_segments=num_segments,
        ),
    )


def sparse_unsorted_segment_sum_gradient(segment_grads, segment_ids):
    """SparseUnsortedSegmentSumGradient: each row gets its segment's gradient."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=False, mean=False),)


register_segment_op(
    "Sum",
    sparse=True,
    sorted_ids=False,
    example_ids=[1, 0, 1],
    output=[[1, 2], [10, 12]],
    gradient_output=[[3, 4], [1, 2], [3, 4]],
    kernel=sparse_unsorted_segment_sum,
    gradient_kernel=sparse_unsorted_segment_sum_gradient,
    doc="""Gather rows of DATA by INDICES (int32 or int64, a vector) and take the sum of
the gathered rows per segment: Gather and UnsortedSegmentSum fused.

SEGMENT_IDS (int32, one per looked-up row) may come in any order; OUTPUT has
num_segments rows when that argument is given, else max(SEGMENT_IDS) + 1, and a
segment with no rows gives 0. Each id must lie in [0, rows).

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

An index outside DATA's rows is an error.

Its gradient is UnsortedSegmentSumGradient (sparse: the values for INDICES).

Example: DATA=[[1, 2], [3, 4], [5, 6]], INDICES=[2, 0, 2], SEGMENT_IDS=[1, 0, 1] -> OUTPUT=[[1, 2], [10, 12]]""",
)
