from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.segments import check_lengths_errors
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientError


def naive_segment_ids(lengths):
    ids = []
    for s, n in enumerate(lengths.tolist()):
        ids.extend([s] * n)
    return [np.array(ids, np.int32)]


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(0, 6), max_size=10))
def test_matches_naive_loop(lengths):
    testing.check_reference(
        CreateOperator("LengthsToSegmentIds", ["L"], ["S"]),
        [np.array(lengths, np.int32)],
        naive_segment_ids,
    )


def test_doc_example_and_errors():
    op = CreateOperator("LengthsToSegmentIds", ["L"], ["S"])
    testing.check_reference(
        op,
        [np.array([1, 3, 0, 2], np.int32)],
        lambda l: [np.array([0, 1, 1, 1, 3, 3], np.int32)],
    )
    check_lengths_errors(
        op,
        [],
        not_a_vector=[[1]],
        wide=[1],
        negative=[2, -1],
        vector_message="Input must be a vector.",
    )
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"S": "S_grad"})


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    assert _infer(
        "LengthsToSegmentIds", ["L"], ["S"], [TensorShape((3,), np.int32)]
    ) == [TensorShape(("sum(lengths)",), np.int32)]
