from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.segments import check_lengths_errors
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientError
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

REALNETS = "/work/shared/realnets/glow_caffe2Models"


def naive_lengths_to_ranges(lengths):
    rows, offset = [], 0
    for n in lengths.tolist():
        rows.append([offset, n])
        offset += n
    return [np.array(rows, np.int32).reshape(len(rows), 2)]


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(0, 9), max_size=10))
def test_matches_naive_loop(lengths):
    testing.check_reference(
        CreateOperator("LengthsToRanges", ["L"], ["R"]),
        [np.array(lengths, np.int32)],
        naive_lengths_to_ranges,
    )


def test_doc_example_and_errors():
    op = CreateOperator("LengthsToRanges", ["L"], ["R"])
    testing.check_reference(
        op,
        [np.array([1, 3, 0, 2], np.int32)],
        lambda l: [np.array([[0, 1], [1, 3], [4, 0], [4, 2]], np.int32)],
    )
    check_lengths_errors(
        op,
        [],
        not_a_vector=[[1]],
        wide=[1],
        vector_message="Input must be a vector.",
    )
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"R": "R_grad"})


@pytest.mark.skipif(
    registry.find("GivenTensorIntFill") is None,
    reason="needs the GivenTensorIntFill operator",
)
def test_glow_lengths_to_ranges_net():
    # Caffe2ImporterTest.LengthsToRanges: the init net fills input = [1, 3, 0, 2]; glow
    # checks the graph only. The values are the ones Caffe2's own doc gives.
    ws = Workspace()
    ws.run_net_once(load_net(f"{REALNETS}/lengths_to_ranges_init_net.pbtxt"))
    ws.run_net_once(load_net(f"{REALNETS}/lengths_to_ranges.pbtxt"))
    np.testing.assert_array_equal(
        ws.fetch_blob("output"), [[0, 1], [1, 3], [4, 0], [4, 2]]
    )


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    assert _infer("LengthsToRanges", ["L"], ["R"], [TensorShape(("K",), np.int32)]) == [
        TensorShape(("K", 2), np.int32)
    ]
