"""Sparse gradients (GradientSlice) in the backward pass: accumulation by two Concat
ops, and the refusal to mix sparse and dense gradients of one blob."""

from __future__ import annotations

import pytest
from c2l_test_support.gradients import assert_ops_equal, backward

from caffe2lite import core
from caffe2lite.core import CreateOperator, GradientSlice
from caffe2lite.errors import GradientError

pytestmark = pytest.mark.usefixtures("python_gradients")


def test_sparse_accumulation_with_values():
    ops = [
        CreateOperator("SparseValues", ["x2", "x1"], "x4"),
        CreateOperator("SparseValues", ["x2", "x3"], "x5"),
        CreateOperator("Direct", ["x4", "x5"], "x6"),
    ]
    got, grads = backward(ops, {"x6": "x6_grad"})
    want = [
        CreateOperator("DirectGradient", "x6_grad", ["x4_grad", "x5_grad"]),
        CreateOperator(
            "Concat",
            ["x3", "x1"],
            ["x2_grad_indices_concat", "x2_grad_indices_concat_split"],
            axis=0,
        ),
        CreateOperator(
            "Concat",
            ["x5_grad", "x4_grad"],
            ["x2_grad_values_concat", "x2_grad_values_concat_split"],
            axis=0,
        ),
    ]
    assert [list(op.device_option.extra_info) for op in got[1:]] == [
        ["is_auto_gen_sum_ops:1"]
    ] * 2
    assert_ops_equal(got, want)
    assert grads["x2"] == GradientSlice(
        "x2_grad_indices_concat", "x2_grad_values_concat"
    )
    assert "x1" not in grads


def test_sparse_accumulation_with_indices_and_values():
    ops = [
        CreateOperator("SparseBoth", ["x4"], "x8"),
        CreateOperator("SparseBoth", ["x4"], "x9"),
        CreateOperator("Direct", ["x8", "x9"], "x10"),
    ]
    got, grads = backward(ops, {"x10": "x10_grad"})
    want = [
        CreateOperator("DirectGradient", "x10_grad", ["x8_grad", "x9_grad"]),
        CreateOperator(
            "SparseBothGradient",
            "x9_grad",
            ["_x4_grad_indices_autosplit_0", "_x4_grad_values_autosplit_0"],
        ),
        CreateOperator(
            "SparseBothGradient",
            "x8_grad",
            ["_x4_grad_indices_autosplit_1", "_x4_grad_values_autosplit_1"],
        ),
        CreateOperator(
            "Concat",
            ["_x4_grad_indices_autosplit_0", "_x4_grad_indices_autosplit_1"],
            ["x4_grad_indices_concat", "x4_grad_indices_concat_split"],
            axis=0,
        ),
        CreateOperator(
            "Concat",
            ["_x4_grad_values_autosplit_0", "_x4_grad_values_autosplit_1"],
            ["x4_grad_values_concat", "x4_grad_values_concat_split"],
            axis=0,
        ),
    ]
    assert_ops_equal(got, want)
    assert grads["x4"] == GradientSlice(
        "x4_grad_indices_concat", "x4_grad_values_concat"
    )


def test_mix_of_sparse_and_dense_is_an_error():
    ops = [
        CreateOperator("SparseValues", ["x", "i"], "a"),
        CreateOperator("Direct", ["x"], "b"),
        CreateOperator("Direct", ["a", "b"], "c"),
    ]
    with pytest.raises(RuntimeError) as e:
        backward(ops, {"c": "c_grad"})
    assert isinstance(e.value, GradientError)
    assert str(e.value) == (
        "Gradients for param ''x'' failed to verify: Automatic aggregation "
        "of a mix of sparse and dense gradients is not supported yet"
    )


@pytest.mark.skipif(
    not (core.IsOperator("Gather") and core.IsOperator("DotProduct")),
    reason="needs Gather and DotProduct",
)
def test_sparse_accumulation_with_the_real_gather():
    net = core.Net("sparse_gather")
    net.Gather(["x2", "x1"], "x4")
    net.Gather(["x2", "x3"], "x5")
    net.DotProduct(["x4", "x5"], "x6")
    grads = net.AddGradientOperators({"x6": "x6_grad"})
    concat_i, concat_v = net.Proto().op[-2:]
    assert (list(concat_i.input), concat_i.output[0]) == (
        ["x3", "x1"],
        "x2_grad_indices_concat",
    )
    assert (list(concat_v.input), concat_v.output[0]) == (
        ["x5_grad", "x4_grad"],
        "x2_grad_values_concat",
    )
    assert grads["x2"] == GradientSlice(
        "x2_grad_indices_concat", "x2_grad_values_concat"
    )
