from __future__ import annotations

import numpy as np
from c2l_test_support.segments import check_lengths_errors
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.protoio import load_net
from caffe2lite.workspace import Workspace

REALNETS = "/work/shared/realnets/glow_caffe2Models"


def naive_range_fill(lengths):
    out = []
    for n in lengths.tolist():
        out.extend(range(n))
    return [np.array(out, np.int32)]


@settings(max_examples=30, deadline=None)
@given(lengths=st.lists(st.integers(0, 6), max_size=10))
def test_matches_naive_loop(lengths):
    testing.check_reference(
        CreateOperator("LengthsRangeFill", ["L"], ["R"]),
        [np.array(lengths, np.int32)],
        naive_range_fill,
    )


def test_doc_example_errors_and_no_gradient():
    op = CreateOperator("LengthsRangeFill", ["L"], ["R"])
    testing.check_reference(
        op,
        [np.array([4, 3, 1], np.int32)],
        lambda l: [np.array([0, 1, 2, 3, 0, 1, 2, 0], np.int32)],
    )
    check_lengths_errors(
        op,
        [],
        not_a_vector=[[1]],
        wide=[1],
        negative=[1, -2],
        vector_message="Input must be a vector.",
    )
    ops, grads = GradientRegistry.GetBackwardPass([op], {"R": "R_grad"})
    assert ops == [] and grads.get("L") is None


def test_glow_lengths_range_fill_net():
    # Caffe2ImporterTest.LengthsRangeFill: lengths of dims {3} and a result of dims {8}
    # (glow's maxOutputSize argument, which Caffe2 ignores); lengths summing to 8.
    ws = Workspace()
    ws.feed_blob("lengths", np.array([2, 4, 2], np.int32))
    ws.run_net_once(load_net(f"{REALNETS}/lengths_range_fill_predict_net.pbtxt"))
    np.testing.assert_array_equal(ws.fetch_blob("result"), [0, 1, 0, 1, 2, 3, 0, 1])


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    assert _infer("LengthsRangeFill", ["L"], ["R"], [TensorShape((3,), np.int32)]) == [
        TensorShape(("sum(lengths)",), np.int32)
    ]
