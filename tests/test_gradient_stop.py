"""StopGradient in the backward pass (out of place, in place, orphan) and how the
gradient map keeps or erases the gradient of an input read twice."""

from __future__ import annotations

import pytest
from c2l_test_support.gradients import assert_ops_equal, backward

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientValueError

pytestmark = pytest.mark.usefixtures("python_gradients")


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
