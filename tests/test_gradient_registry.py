"""The gradient registries: built-in decisions and makers (Caffe2's C++ side) and the
Python registry, consulted in Caffe2's order, with errors wrapped as Caffe2's Python
wrapped them; the switches copying device option, engine and arguments; the core
hooks."""

from __future__ import annotations

import pytest
from c2l_test_support.gradients import get, raises, wrapped

from caffe2lite import core
from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator, GradientRegistry, GradientSlice
from caffe2lite.errors import GradientError
from caffe2lite.gradient.backward import set_core_hooks
from caffe2lite.schema.opschema import Arg


def test_not_registered_at_all(isolated_registries):
    op = CreateOperator("Unheard", ["x"], ["y"])
    raises(op, ["y_grad"], "Gradient maker for operator Unheard not implemented.")


def test_the_three_refusals(isolated_registries):
    registry.no_gradient("TNo")
    registry.should_not_do_gradient("TShouldNot")
    registry.gradient_not_implemented_yet("TNotYet")
    assert get(CreateOperator("TNo", ["x", "z"], ["y"]), ["y_grad"]) == (
        [],
        [None, None],
    )
    op = CreateOperator("TShouldNot", ["x"], ["y"])
    raises(op, ["y_grad"], "One should not call gradient for operator TShouldNot.")
    op = CreateOperator("TNotYet", ["x"], ["y"])
    raises(
        op,
        ["y_grad"],
        "Operator TNotYet should have a gradient but is not implemented yet.",
    )
    ops = [
        CreateOperator("TNo", ["x"], ["h"]),
        CreateOperator("TShouldNot", ["x"], ["unused"]),
        CreateOperator("Sum", ["h"], ["y"]),
    ]
    assert GradientRegistry.GetBackwardPass(ops, {"y": "y_grad"}) == (
        [],
        {"y": "y_grad", "h": "y_grad"},
    )


def test_python_registry_is_the_fallback(isolated_registries):
    registry.should_not_do_gradient("TBoth")

    @GradientRegistry.RegisterGradient("TBoth")
    def python_maker(op, g_output):
        return CreateOperator("TBothGradient", [g_output[0]], ["x_grad"]), ["x_grad"]

    ops, g_input = get(CreateOperator("TBoth", ["x"], ["y"]), ["y_grad"])
    assert [op.type for op in ops] == ["TBothGradient"] and g_input == ["x_grad"]
    assert not ops[0].is_gradient_op

    @GradientRegistry.RegisterGradient("Sum")
    def never_used(op, g_output):
        raise AssertionError("the built-in Sum maker works, so this is not called")

    assert get(CreateOperator("Sum", ["a"], ["s"]), ["s_grad"]) == ([], ["s_grad"])


def test_python_maker_results_are_normalised(isolated_registries):
    GradientRegistry.RegisterGradient("TNone")(lambda op, g: (None, [None]))
    GradientRegistry.RegisterGradient("TOne")(
        lambda op, g: (CreateOperator("TOneGradient", [g[0]], ["x_grad"]), ["x_grad"])
    )
    assert get(CreateOperator("TNone", ["x"], ["y"]), ["y_grad"]) == ([], [None])
    ops, _ = get(CreateOperator("TOne", ["x"], ["y"]), ["y_grad"])
    assert isinstance(ops, list) and len(ops) == 1


def test_python_maker_errors_are_not_wrapped(isolated_registries):
    def broken(op, g_output):
        raise KeyError("broken maker")

    GradientRegistry.RegisterGradient("TBroken")(broken)
    with pytest.raises(KeyError, match="broken maker"):
        get(CreateOperator("TBroken", ["x"], ["y"]), ["y_grad"])


def test_maker_for_a_type_without_forward_op(isolated_registries):
    @registry.register_gradient("TNoForward")
    def maker(g):
        return [
            g.op_def(
                "TNoForwardGradient",
                [g.I(0), g.O(0), g.GO(0)],
                [g.GI(0)],
                alpha=0.5,
                mode="fast",
                skip=None,
            )
        ]

    ops, g_input = get(CreateOperator("TNoForward", ["x"], ["y"]), ["y_grad"])
    want = CreateOperator(
        "TNoForwardGradient", ["x", "y", "y_grad"], ["x_grad"], alpha=0.5, mode="fast"
    )
    want.is_gradient_op = True
    assert ops == [want] and g_input == ["x_grad"]


def test_copies_device_option_engine_and_appends_arguments(isolated_registries):
    @registry.register_gradient("TCopy")
    def maker(g):
        return [g.op_def("TCopyGradient", [g.GO(0)], [g.GI(0)], own=1)]

    option = core.DeviceOption(1, 2)
    op = CreateOperator(
        "TCopy", ["x"], ["y"], device_option=option, engine="CUDNN", scale=2.0, axis=1
    )
    (grad_op,), _ = get(op, ["y_grad"])
    assert grad_op.device_option == option and grad_op.engine == "CUDNN"
    assert [a.name for a in grad_op.arg] == ["own", "scale", "axis"]
    assert grad_op.is_gradient_op


@pytest.mark.parametrize(
    "switch", ["copy_device_option", "copy_engine", "copy_arguments"]
)
def test_copy_switches(isolated_registries, switch):
    registry.register_gradient("TSwitch", **{switch: False})(
        lambda g: [g.op_def("TSwitchGradient", [g.GO(0)], [g.GI(0)])]
    )
    op = CreateOperator(
        "TSwitch",
        ["x"],
        ["y"],
        device_option=core.DeviceOption(1, 2),
        engine="E",
        scale=2.0,
    )
    (grad_op,), _ = get(op, ["y_grad"])
    assert grad_op.HasField("device_option") == (switch != "copy_device_option")
    assert grad_op.HasField("engine") == (switch != "copy_engine")
    assert len(grad_op.arg) == (0 if switch == "copy_arguments" else 1)


def test_unset_engine_and_device_option_are_not_copied():
    (grad_op,), _ = get(CreateOperator("ZeroGradient", ["x"], []), [])
    assert not grad_op.HasField("device_option") and not grad_op.HasField("engine")
    assert grad_op.HasField("name") and grad_op.name == ""


def test_schema_is_checked_when_the_forward_op_exists(isolated_registries):
    op = CreateOperator("Sum", ["a"], ["s", "t"])
    with pytest.raises(GradientError) as e:
        get(op, ["s_grad", None])
    assert "schema" in str(e.value)
    assert str(e.value) == wrapped(
        op, f"(GradientMaker) Operator def did not pass schema checking: {op}"
    )
    no_grad = CreateOperator("StopGradient", ["a", "b"], ["s"])
    raises(
        no_grad,
        ["s_grad"],
        f"(GradientMaker) Operator def did not pass schema checking: {no_grad}",
    )

    @registry.register_cpu_operator(
        "TSchema",
        inputs=["X"],
        outputs=["Y"],
        args=[Arg("k", int, 0)],
        doc="Example: X=[1] -> Y=[1]",
    )
    def t_schema(x, *, k):
        return (x,)

    registry.register_gradient("TSchema")(lambda g: [])
    assert get(CreateOperator("TSchema", ["x"], ["y"]), ["y_grad"]) == ([], [None])
    with pytest.raises(GradientError, match="schema"):
        get(CreateOperator("TSchema", ["x", "z"], ["y"]), ["y_grad"])


def test_sparse_output_gradient_through_the_backward_pass(isolated_registries):
    @registry.register_gradient("TSparse")
    def maker(g):
        g.SetSparse(0, g.GO_I(0), g.GO_V(0))
        return []

    ops = [CreateOperator("TSparse", ["x"], ["y"])]
    _, result = GradientRegistry.GetBackwardPass(ops, {"y": GradientSlice("yi", "yv")})
    assert result == {"y": GradientSlice("yi", "yv"), "x": GradientSlice("yi", "yv")}


def test_core_hooks_give_blob_references_and_scoped_autogen_ops():
    ops = [CreateOperator("Sum", ["x"], ["y"])]
    saved = core.IR.create_operator, core.IR.blob_reference
    try:
        set_core_hooks(CreateOperator, core.BlobReference)
        with core.NameScope("tower"), core.DeviceScope(core.DeviceOption(1, 3)):
            grad_ops, result = GradientRegistry.GetBackwardPass(ops, ["y"])
        assert list(grad_ops[0].input) == ["tower/y"]
        assert list(grad_ops[0].output) == ["tower/y_autogen_grad"]
        assert grad_ops[0].device_option == core.DeviceOption(1, 3)
        assert all(
            isinstance(k, core.BlobReference) and isinstance(v, core.BlobReference)
            for k, v in result.items()
        )
        assert result == {"y": "tower/y_autogen_grad", "x": "tower/y_autogen_grad"}
    finally:
        core.IR.create_operator = staticmethod(saved[0])
        core.IR.blob_reference = staticmethod(saved[1])
