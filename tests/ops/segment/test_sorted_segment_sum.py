"""SortedSegmentSum: the shared segment-id reduction tests (c2l_test_support/segment_id_ops.py):
a naive loop, Caffe2's segment_ops_test cases, edges, exact errors, the gradient maker's
ops (SortedSegmentSumGradient) and a numeric gradient; and the SortedSegmentSumGradient op."""

from __future__ import annotations

from c2l_test_support.segment_id_ops import SegmentIdOpTests


class TestSortedSegmentSum(SegmentIdOpTests):
    OP_TYPE = "SortedSegmentSum"
    SPARSE, SORTED, MEAN = False, True, False
