"""The backward pass on made-up op types with Python gradients, as Caffe2's
core_gradients tests build it: gradient-op lists, SSA versions, in-place ops."""

from __future__ import annotations

import pytest
from c2l_test_support.gradients import GIS, assert_ops_equal, backward

from caffe2lite import core
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import GradientError

pytestmark = pytest.mark.usefixtures("python_gradients")


@pytest.mark.parametrize("device", [None, core.DeviceOption(1, 1)])
def test_direct(device):
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("Direct", "hidden", "out"),
    ]
    want = [
        CreateOperator("DirectGradient", "out_grad", "hidden_grad"),
        CreateOperator("DirectGradient", "hidden_grad", "in_grad"),
    ]
    for op in ops + want if device else []:
        op.device_option.CopyFrom(device)
    got, grads = backward(ops, {"out": "out_grad"})
    assert_ops_equal(got, want)
    assert grads == {"out": "out_grad", "hidden": "hidden_grad", "in": "in_grad"}


def test_implicit_gradient_source_comes_first():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("Direct", "hidden", "out"),
    ]
    want = [
        CreateOperator("ConstantFill", "out", "out_autogen_grad", value=1.0),
        CreateOperator("DirectGradient", "out_autogen_grad", "hidden_grad"),
        CreateOperator("DirectGradient", "hidden_grad", "in_grad"),
    ]
    got, grads = backward(ops, ["out"])
    assert_ops_equal(got, want)
    assert grads["out"] == "out_autogen_grad"
    assert not got[0].is_gradient_op


def test_does_not_generate_unnecessary_gradients():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("Direct", "hidden", "out"),
    ]
    got, grads = backward(ops, {"hidden": "hidden_grad"})
    assert_ops_equal(got, [CreateOperator("DirectGradient", "hidden_grad", "in_grad")])
    assert grads == {"hidden": "hidden_grad", "in": "in_grad"}


def test_no_output_gradient_given():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("Direct", "hidden", "out"),
    ]
    assert backward(ops, {}) == ([], {})
    assert backward(ops, []) == ([], {})


def test_ys_must_be_a_list_or_a_dict():
    with pytest.raises(TypeError, match="ys should either be a list or a dict."):
        backward([CreateOperator("Direct", "in", "out")], ("out",))


def test_direct_in_place():
    ops = [CreateOperator("Direct", "in", "in"), CreateOperator("Direct", "in", "out")]
    want = [
        CreateOperator("DirectGradient", "out_grad", "in_grad"),
        CreateOperator("DirectGradient", "in_grad", "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"out": "out_grad"})[0], want)


def test_version_mismatch_of_a_gradient_name():
    ops = [
        CreateOperator("Direct", "x", "x"),
        CreateOperator("Direct", "y", "x"),
        CreateOperator("Direct", "x", "y"),
    ]
    with pytest.raises(RuntimeError) as e:
        backward(ops, {"y": "y_grad"})
    assert isinstance(e.value, GradientError)
    msg = str(e.value)
    assert msg.startswith(
        'Gradient name "x_grad" is expected to correspond to version 1 of '
        '"x", but currently we have version 2.\n\nDEBUG HELP:\nMaybe you use '
        "same output blob twice for different ops?\n== Version history of "
        "blob [x]\nVersion (out) 1 <-- "
    )
    assert "Version (out) 2 <-- " in msg


def test_use_output():
    ops = [
        CreateOperator("UseOutput", "in", "hidden"),
        CreateOperator("UseOutput", "hidden", "out"),
        CreateOperator("Direct", "out", "sink"),
    ]
    want = [
        CreateOperator("DirectGradient", "sink_grad", "out_grad"),
        CreateOperator("UseOutputGradient", ["out", "out_grad"], "hidden_grad"),
        CreateOperator("UseOutputGradient", ["hidden", "hidden_grad"], "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"sink": "sink_grad"})[0], want)


def test_use_output_in_place():
    ops = [
        CreateOperator("UseOutput", "in", "in"),
        CreateOperator("UseOutput", "in", "out"),
        CreateOperator("Direct", "out", "sink"),
    ]
    want = [
        CreateOperator("DirectGradient", "sink_grad", "out_grad"),
        CreateOperator("UseOutputGradient", ["out", "out_grad"], "in_grad"),
        CreateOperator("UseOutputGradient", ["in", "in_grad"], "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"sink": "sink_grad"})[0], want)


def test_use_output_but_output_has_been_changed():
    ops = [
        CreateOperator("UseOutput", "in", "hidden"),
        CreateOperator("Direct", "hidden", "hidden"),
        CreateOperator("UseOutput", "hidden", "out"),
        CreateOperator("Direct", "out", "sink"),
    ]
    with pytest.raises(
        RuntimeError,
        match='^Gradient operator needs output "hidden" at '
        "version 0, but currently we have version 1.\n\nDEBUG HELP:\nMaybe "
        "you use same output blob twice for different ops?",
    ):
        backward(ops, {"sink": "sink_grad"})


def test_use_input():
    ops = [
        CreateOperator("Direct", "in", "hidden"),
        CreateOperator("UseInput", "hidden", "out"),
        CreateOperator("Direct", "out", "sink"),
    ]
    want = [
        CreateOperator("DirectGradient", "sink_grad", "out_grad"),
        CreateOperator("UseInputGradient", ["hidden", "out_grad"], "hidden_grad"),
        CreateOperator("DirectGradient", "hidden_grad", "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"sink": "sink_grad"})[0], want)


def test_use_input_but_input_has_been_changed():
    ops = [
        CreateOperator("UseInput", "in", "out"),
        CreateOperator("Direct", "in", "in"),
    ]
    with pytest.raises(RuntimeError) as e:
        backward(ops, {"out": "out_grad"})
    assert str(e.value).startswith(
        'Gradient operator needs input "in" at version 0, but currently we have version 1.'
        "\n\nDEBUG HELP:\nMaybe the blob was overwritten by another op?\n== Version history "
        "of blob [in]\nversion (in) 0 <-- "
    )


def test_gradient_op_reading_an_unknown_blob():
    @GradientRegistry.RegisterGradient("ReadsMystery")
    def reads_mystery(op, g_output):
        return CreateOperator(
            "MysteryGradient", ["mystery", g_output[0]], GIS(op)
        ), GIS(op)

    with pytest.raises(RuntimeError) as e:
        backward([CreateOperator("ReadsMystery", "in", "out")], {"out": "out_grad"})
    msg = str(e.value)
    assert msg.startswith(
        'Blob name "mystery" not in the scope of operator: input: "in"\n'
    )
    assert msg.endswith(
        "\nand is not generated by any of the local gradient operators."
    )


def test_gradient_op_may_read_blobs_made_by_earlier_local_gradient_ops():
    @GradientRegistry.RegisterGradient("TwoStep")
    def two_step(op, g_output):
        return [
            CreateOperator("StepOne", [g_output[0]], ["tmp"]),
            CreateOperator("StepTwo", ["tmp"], GIS(op)),
        ], GIS(op)

    got, grads = backward([CreateOperator("TwoStep", "in", "out")], {"out": "out_grad"})
    assert [op.type for op in got] == ["StepOne", "StepTwo"]
    assert grads["in"] == "in_grad"


def test_ir_versions():
    ir = core.IR(
        [CreateOperator("Direct", "in", "in"), CreateOperator("Direct", "x", "y")]
    )
    assert ir.ssa[0].in_versions == {"in": 0} and ir.ssa[0].out_versions == {"in": 1}
    assert ir.ssa[1].in_versions == {"x": 0} and ir.ssa[1].out_versions == {"y": 0}
    assert dict(ir.frontier) == {"in": 1, "x": 0, "y": 0}
    assert {k: dict(v) for k, v in ir.input_usages.items()} == {
        "in": {0: [0]},
        "x": {0: [1]},
    }
