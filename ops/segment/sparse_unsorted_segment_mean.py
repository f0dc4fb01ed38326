"""SparseUnsortedSegmentMean and its gradient op (Caffe2 segment_reduction_op)."""

from __future__ import annotations

from ._segment_ids import reduce_segments, register_segment_op, segment_gradient


def sparse_unsorted_segment_mean(data, indices, segment_ids, *, num_segments):
    """SparseUnsortedSegmentMean: per-segment mean."""
    return (
        reduce_segments(
            data,
            indices,
            segment_ids,
            sorted_ids=False,
            mean=True,
            num_segments=num_segments,
        ),
    )


def sparse_unsorted_segment_mean_gradient(segment_grads, segment_ids):
    """SparseUnsortedSegmentMeanGradient: each row gets its segment's gradient / length."""
    return (segment_gradient(segment_grads, segment_ids, sorted_ids=False, mean=True),)


register_segment_op(
    "Mean",
    sparse=True,
    sorted_ids=False,
    example_ids=[1, 0, 1],
    output=[[1, 2], [5, 6]],
    gradient_output=[[1.5, 2], [1, 2], [1.5, 2]],
    kernel=sparse_unsorted_segment_mean,
    gradient_kernel=sparse_unsorted_segment_mean_gradient,
    doc="""Gather rows of DATA by INDICES (int32 or int64, a vector) and take the mean of
the gathered rows per segment: Gather and UnsortedSegmentMean fused.

SEGMENT_IDS (int32, one per looked-up row) may come in any order; OUTPUT has
num_segments rows when that argument is given, else max(SEGMENT_IDS) + 1, and a
segment with no rows gives 0. Each id must lie in [0, rows).

A segment's sum is divided by its number of rows.

OUTPUT keeps DATA's type (float32; float64 too) and its dimensions after the first.

An index outside DATA's rows is an error.

Its gradient is UnsortedSegmentMeanGradient (sparse: the values for INDICES).

Example: DATA=[[1, 2], [3, 4], [5, 6]], INDICES=[2, 0, 2], SEGMENT_IDS=[1, 0, 1] -> OUTPUT=[[1, 2], [5, 6]]""",
)
