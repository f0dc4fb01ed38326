"""StopGradient in the backward pass (out of place, in place, orphan) and how the
gradient map keeps or erases the gradient of an input read twice."""

from __future__ import annotations

import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientValueError


def GIS(op):
    return [s + "_grad" for s in op.input]


@GradientRegistry.RegisterGradient("Direct")
def direct_gradient(op, g_output):
    """(in -> out) gives (out_grad -> in_grad), on the forward op's device."""
    grad_op = CreateOperator("DirectGradient", list(g_output), GIS(op))
    if op.HasField("device_option"):
        grad_op.device_option.CopyFrom(op.device_option)
    return grad_op, GIS(op)


def assert_ops_equal(got, want):
    """Caffe2's assertOperatorListEqual: ignore debug_info and device extra_info."""
    for op in list(got) + list(want):
        op.debug_info = ""
        if op.device_option:
            del op.device_option.extra_info[:]
    assert list(got) == list(want)


def backward(ops, ys):
    return GradientRegistry.GetBackwardPass(ops, ys)


def test_stop_gradient():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("StopGradient", "hidden", "hidden2"),
        CreateOperator("Direct", "hidden2", "out"),
    ]
    got, grads = backward(ops, {"out": "out_grad"})
    assert_ops_equal(
        got, [CreateOperator("DirectGradient", "out_grad", "hidden2_grad")]
    )
    assert grads == {"out": "out_grad", "hidden2": "hidden2_grad"}


def test_stop_gradient_orphan():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("StopGradient", "hidden", "auto_blobx"),
        CreateOperator("Direct", "hidden", "out"),
    ]
    with pytest.raises(ValueError) as e:
        backward(ops, {"out": "out_grad"})
    assert isinstance(e.value, GradientValueError)
    assert str(e.value) == (
        "StopGradient's output 'auto_blobx' is orphan.\nYou typically want to specify same "
        f"input and output for\nStopGradient. Op:\n\n{ops[1]}"
    )


def test_stop_gradient_in_place_erases_the_gradient():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("StopGradient", "hidden", "hidden"),
        CreateOperator("Direct", "hidden", "out"),
    ]
    got, grads = backward(ops, {"out": "out_grad"})
    assert_ops_equal(got, [CreateOperator("DirectGradient", "out_grad", "hidden_grad")])
    assert grads == {"out": "out_grad"}


def test_stop_gradient_with_multi_use_operators():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("Direct", "hidden", "hidden2"),
        CreateOperator("StopGradient", "hidden", "hidden3"),
        CreateOperator("Direct", ["hidden2", "hidden3"], "out"),
    ]
    want = [
        CreateOperator("DirectGradient", "out_grad", ["hidden2_grad", "hidden3_grad"]),
        CreateOperator("DirectGradient", "hidden2_grad", "hidden_grad"),
        CreateOperator("DirectGradient", "hidden_grad", "in_grad"),
    ]
    got, grads = backward(ops, {"out": "out_grad"})
    assert_ops_equal(got, want)
    assert grads == {
        "out": "out_grad",
        "hidden2": "hidden2_grad",
        "hidden3": "hidden3_grad",
        "hidden": "hidden_grad",
        "in": "in_grad",
    }


def test_a_later_none_for_the_same_input_blob_erases_its_gradient():
    # Caffe2 records g_input position by position: (x, "x_grad") then (x, None).
    @GradientRegistry.RegisterGradient("FirstOnly")
    def first_only(op, g_output):
        return CreateOperator("FirstOnlyGradient", [g_output[0]], ["x_grad"]), [
            "x_grad",
            None,
        ]

    got, grads = backward(
        [CreateOperator("FirstOnly", ["x", "x"], "y")], {"y": "y_grad"}
    )
    assert [op.type for op in got] == ["FirstOnlyGradient"]
    assert grads == {"y": "y_grad"}
