"""SparseUnsortedSegmentSum: the shared segment-id reduction tests (c2l_test_support/segment_id_ops.py):
a naive loop, Caffe2's segment_ops_test cases, edges, exact errors, the gradient maker's
ops (UnsortedSegmentSumGradient) and a numeric gradient; and the SparseUnsortedSegmentSumGradient op."""

from __future__ import annotations

from c2l_test_support.segment_id_ops import SegmentIdOpTests


class TestSparseUnsortedSegmentSum(SegmentIdOpTests):
    OP_TYPE = "SparseUnsortedSegmentSum"
    SPARSE, SORTED, MEAN = True, False, False
