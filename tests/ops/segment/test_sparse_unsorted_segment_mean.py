"""SparseUnsortedSegmentMean: the shared segment-id reduction tests (c2l_test_support/segment_id_ops.py):
a naive loop, Caffe2's segment_ops_test cases, edges, exact errors, the gradient maker's
ops (UnsortedSegmentMeanGradient) and a numeric gradient; and the SparseUnsortedSegmentMeanGradient op."""

from __future__ import annotations

from c2l_test_support.segment_id_ops import SegmentIdOpTests


class TestSparseUnsortedSegmentMean(SegmentIdOpTests):
    OP_TYPE = "SparseUnsortedSegmentMean"
    SPARSE, SORTED, MEAN = True, False, True
