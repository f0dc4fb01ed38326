"""SortedSegmentMean: the shared segment-id reduction tests (c2l_test_support/segment_id_ops.py):
a naive loop, Caffe2's segment_ops_test cases, edges, exact errors, the gradient maker's
ops (SortedSegmentMeanGradient) and a numeric gradient; and the SortedSegmentMeanGradient op."""

from __future__ import annotations

from c2l_test_support.segment_id_ops import SegmentIdOpTests


class TestSortedSegmentMean(SegmentIdOpTests):
    OP_TYPE = "SortedSegmentMean"
    SPARSE, SORTED, MEAN = False, True, True
