"""Gradient accumulation: one Sum for dense gradients (with ``_autosplit_`` renames of
gradient ops already emitted), two Concat ops for sparse ones, and their device
options."""

from __future__ import annotations

import pytest
from c2l_test_support.gradients import assert_ops_equal, backward

from caffe2lite import core
from caffe2lite.core import CreateOperator

pytestmark = pytest.mark.usefixtures("python_gradients")


@pytest.mark.parametrize("device", [None, core.DeviceOption(1, 1)])
def test_multi_use_input(device):
    ops = [
        CreateOperator("Direct", "in", "hidden1"),
        CreateOperator("Direct", "in", "hidden2"),
        CreateOperator("Direct", ["hidden1", "hidden2"], "out"),
    ]
    want = [
        CreateOperator("DirectGradient", "out_grad", ["hidden1_grad", "hidden2_grad"]),
        CreateOperator("DirectGradient", "hidden2_grad", "in_grad"),
        CreateOperator("DirectGradient", "hidden1_grad", "_in_grad_autosplit_0"),
        CreateOperator("Sum", ["in_grad", "_in_grad_autosplit_0"], "in_grad"),
    ]
    for op in ops + want if device else []:
        op.device_option.CopyFrom(device)
    got, grads = backward(ops, {"out": "out_grad"})
    assert list(got[-1].device_option.extra_info) == ["is_auto_gen_sum_ops:1"]
    assert not got[-1].is_gradient_op and got[-1].name == ""
    assert_ops_equal(got, want)
    assert grads["in"] == "in_grad"


def test_multi_use_input_but_with_no_gradient():
    ops = [
        CreateOperator("Direct", "in", "hidden1"),
        CreateOperator("Nogradient", "in", "hidden2"),
        CreateOperator("Direct", ["hidden1", "hidden2"], "out"),
    ]
    want = [
        CreateOperator("DirectGradient", "out_grad", ["hidden1_grad", "hidden2_grad"]),
        CreateOperator("DirectGradient", "hidden1_grad", "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"out": "out_grad"})[0], want)


def test_multi_use_input_and_multiple_versions():
    ops = [
        CreateOperator("Direct", "in", "in"),
        CreateOperator("Direct", "in", "hidden1"),
        CreateOperator("Direct", "in", "hidden2"),
        CreateOperator("Direct", ["hidden1", "hidden2"], "out"),
    ]
    want = [
        CreateOperator("DirectGradient", "out_grad", ["hidden1_grad", "hidden2_grad"]),
        CreateOperator("DirectGradient", "hidden2_grad", "in_grad"),
        CreateOperator("DirectGradient", "hidden1_grad", "_in_grad_autosplit_0"),
        CreateOperator("Sum", ["in_grad", "_in_grad_autosplit_0"], "in_grad"),
        CreateOperator("DirectGradient", "in_grad", "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"out": "out_grad"})[0], want)


def test_multi_use_input_and_multiple_versions_big():
    ops = [
        CreateOperator("Direct", "in", "in"),
        CreateOperator("Direct", "in", "hidden1"),
        CreateOperator("Direct", "in", "hidden2"),
        CreateOperator("Direct", ["hidden1", "hidden2"], "in"),
        CreateOperator("Direct", "in", "hidden3"),
        CreateOperator("Direct", "in", "hidden4"),
        CreateOperator("Direct", "in", "hidden5"),
        CreateOperator("Direct", ["hidden3", "hidden4", "hidden5"], "out"),
    ]
    want = [
        CreateOperator(
            "DirectGradient",
            "out_grad",
            ["hidden3_grad", "hidden4_grad", "hidden5_grad"],
        ),
        CreateOperator("DirectGradient", "hidden5_grad", "in_grad"),
        CreateOperator("DirectGradient", "hidden4_grad", "_in_grad_autosplit_0"),
        CreateOperator("DirectGradient", "hidden3_grad", "_in_grad_autosplit_1"),
        CreateOperator(
            "Sum",
            ["in_grad", "_in_grad_autosplit_0", "_in_grad_autosplit_1"],
            "in_grad",
        ),
        CreateOperator("DirectGradient", "in_grad", ["hidden1_grad", "hidden2_grad"]),
        CreateOperator("DirectGradient", "hidden2_grad", "in_grad"),
        CreateOperator("DirectGradient", "hidden1_grad", "_in_grad_autosplit_0"),
        CreateOperator("Sum", ["in_grad", "_in_grad_autosplit_0"], "in_grad"),
        CreateOperator("DirectGradient", "in_grad", "in_grad"),
    ]
    assert_ops_equal(backward(ops, {"out": "out_grad"})[0], want)


def test_y_also_read_by_an_op_accumulates_with_its_autogen_gradient():
    ops = [CreateOperator("Direct", "a", "m1"), CreateOperator("Direct", "m1", "m2")]
    want = [
        CreateOperator("ConstantFill", "m2", "m2_autogen_grad", value=1.0),
        CreateOperator("ConstantFill", "m1", "m1_autogen_grad", value=1.0),
        CreateOperator("DirectGradient", "m2_autogen_grad", "_m1_grad_autosplit_0"),
        CreateOperator(
            "Sum", ["m1_autogen_grad", "_m1_grad_autosplit_0"], "m1_autogen_grad"
        ),
        CreateOperator("DirectGradient", "m1_autogen_grad", "a_grad"),
    ]
    got, grads = backward(ops, ["m2", "m1"])
    assert_ops_equal(got, want)
    assert grads == {"m2": "m2_autogen_grad", "m1": "m1_autogen_grad", "a": "a_grad"}


def test_pass_through_first_swaps_the_in_place_name_to_input_0():
    ops = [
        CreateOperator("Direct", "x1", "x2"),
        CreateOperator("Direct", "x2", "x3"),
        CreateOperator("PassThrough", ["x2", "x3"], "x4"),
    ]
    got, grads = backward(ops, {"x4": "x4_grad"})
    want = [
        CreateOperator("DirectGradient", "x4_grad", "x2_grad"),
        CreateOperator("Sum", ["x2_grad", "x4_grad"], "x2_grad"),
        CreateOperator("DirectGradient", "x2_grad", "x1_grad"),
    ]
    assert_ops_equal(got, want)
    assert grads == {"x4": "x4_grad", "x3": "x4_grad", "x2": "x2_grad", "x1": "x1_grad"}


def test_pass_through_only_sums_into_input_grad():
    ops = [
        CreateOperator("PassThrough", ["x1", "x2"], "x4"),
        CreateOperator("PassThrough", ["x2", "x3"], "x5"),
        CreateOperator("PassThrough", ["x4", "x5"], "x6"),
    ]
    got, grads = backward(ops, {"x6": "x6_grad"})
    assert_ops_equal(got, [CreateOperator("Sum", ["x6_grad", "x6_grad"], "x2_grad")])
    assert grads == {
        "x6": "x6_grad",
        "x4": "x6_grad",
        "x5": "x6_grad",
        "x1": "x6_grad",
        "x2": "x2_grad",
        "x3": "x6_grad",
    }


def test_pass_through_named_like_the_sum_output_is_an_error():
    ops = [
        CreateOperator("PassThrough", ["x"], "y"),
        CreateOperator("PassThrough", ["x"], "z"),
    ]
    with pytest.raises(
        RuntimeError,
        match="^The gradient output of empty gradient op can not "
        "be the same as the normal name of the current input gradient.$",
    ):
        backward(ops, {"y": "x_grad", "z": "z_grad"})


def test_grad_ops_on_different_devices_is_an_error():
    ops = [
        CreateOperator("Direct", "in", "h1", device_option=core.DeviceOption(1, 0)),
        CreateOperator("Direct", "in", "h2", device_option=core.DeviceOption(1, 1)),
        CreateOperator("Direct", ["h1", "h2"], "out"),
    ]
    with pytest.raises(
        RuntimeError,
        match="^Gradients for param ''in'' failed to verify: "
        "Unexpected behavior: not all grad ops have the same device option.$",
    ):
        backward(ops, {"out": "out_grad"})


def test_cpu_device_ids_and_seeds_do_not_matter():
    ops = [
        CreateOperator("Direct", "in", "h1", device_option=core.DeviceOption(0, 0, 1)),
        CreateOperator("Direct", "in", "h2", device_option=core.DeviceOption(0, 3, 2)),
        CreateOperator("Direct", ["h1", "h2"], "out"),
    ]
    got, _ = backward(ops, {"out": "out_grad"})
    assert got[-1].type == "Sum"
    assert got[-1].device_option == core.DeviceOption(
        0, 3, 2, extra_info=["is_auto_gen_sum_ops:1"]
    )


def test_sum_device_option_only_keeps_the_tag_when_asked():
    keep = core.DeviceOption(
        0, extra_info=["parallelize:shard_by_1", "only_keep_is_auto_gen_sum_ops_tag:1"]
    )
    plain = core.DeviceOption(0, extra_info=["parallelize:shard_by_1"])
    for option, tags in (
        (keep, ["is_auto_gen_sum_ops:1"]),
        (plain, ["parallelize:shard_by_1", "is_auto_gen_sum_ops:1"]),
    ):
        ops = [
            CreateOperator("Direct", "in", "hidden1", device_option=option),
            CreateOperator("Direct", "in", "hidden2", device_option=option),
            CreateOperator("Direct", ["hidden1", "hidden2"], "out"),
        ]
        got, _ = backward(ops, {"out": "out_grad"})
        assert got[-1].type == "Sum"
        assert list(got[-1].device_option.extra_info) == tags
    assert core.IR.IS_AUTO_GEN_SUM_OPS_TAG == "is_auto_gen_sum_ops"
    assert (
        core.IR.ONLY_KEEP_IS_AUTO_GEN_SUM_OPS_TAG == "only_keep_is_auto_gen_sum_ops_tag"
    )
