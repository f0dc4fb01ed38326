"""Python / PythonGradient: Python functions as operators, in this process only."""

from __future__ import annotations

import numpy as np
import pytest
from caffe2lite.ops.utility.python_op import PYTHON_FUNCTIONS

from caffe2lite import core, workspace
from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.testing import check_gradient, check_raises
from caffe2lite.workspace import Workspace


def _double(inputs, outputs):
    outputs[0].reshape(inputs[0].shape)
    outputs[0].data[...] = inputs[0].data * 2


def _double_grad(inputs, outputs):
    outputs[0].reshape(inputs[2].shape)
    outputs[0].data[...] = inputs[2].data * 2


def _double_feed(inputs, outputs):
    outputs[0].feed(inputs[0].data * 2)  # keeps the input's dtype


def _double_grad_feed(inputs, outputs):
    outputs[0].feed(inputs[2].data * 2)


def _naive_double(x):
    out = np.empty_like(x)
    for i, v in enumerate(x.ravel()):
        out.flat[i] = v + v
    return out


def test_forward_matches_a_naive_reference():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    ws = Workspace()
    ws.feed_blob("x", x)
    ws.run(core.CreatePythonOperator(_double, ["x"], ["y"]))
    np.testing.assert_array_equal(ws.fetch_blob("y"), _naive_double(x))


def test_inputs_are_read_only_and_shapes_are_tuples():
    seen = {}

    def f(inputs, outputs):
        seen["shape"] = inputs[0].shape
        with pytest.raises(ValueError):
            inputs[0].data[0] = 5.0

    ws = Workspace()
    ws.feed_blob("x", np.ones(3, np.float32))
    ws.run(core.CreatePythonOperator(f, ["x"], []))
    assert seen["shape"] == (3,)
    assert ws.fetch_blob("x").tolist() == [1.0, 1.0, 1.0]


def test_untouched_output_keeps_its_tensor_and_empty_has_zero_size():
    ws = Workspace()
    ws.feed_blob("x", np.ones(2, np.float32))
    ws.feed_blob("y", np.array([7, 8], np.int64))
    ws.run(core.CreatePythonOperator(lambda i, o: None, ["x"], ["y", "z"]))
    assert ws.fetch_blob("y").tolist() == [7, 8]
    assert ws.fetch_blob("z").shape == (0,)


def test_net_python_builder_is_built_once_per_op_instance():
    built = []

    def make(scale):
        built.append(scale)

        def f(inputs, outputs):
            outputs[0].feed(inputs[0].data * scale)

        return f

    net = core.Net("builder")
    net.Python((make, [3.0], {}))(["x"], ["y"])
    ws = Workspace()
    ws.feed_blob("x", np.array([1.0, 2.0]))
    ws.create_net(net)
    assert built == []
    ws.run_net(net.Name(), num_iter=3)
    assert built == [3.0]
    assert ws.fetch_blob("y").tolist() == [3.0, 6.0]


def test_pass_workspace_gives_the_running_workspace():
    def f(inputs, outputs, ws):
        outputs[0].feed(ws.blobs["other"].fetch() + 1)

    net = core.Net("with_ws")
    net.Python(f, pass_workspace=True)([], ["y"])
    ws = Workspace()
    ws.feed_blob("other", np.array([41]))
    ws.run(net)
    assert ws.fetch_blob("y").tolist() == [42]


def test_exception_in_the_function_fails_the_op_and_changes_nothing():
    def f(inputs, outputs):
        outputs[0].feed(np.zeros(1))
        raise RuntimeError("This is an intentional exception.")

    op = core.CreatePythonOperator(f, ["x"], ["x"])
    err = check_raises(op, [np.array([1.0])], EnforceError,
                       "Exception encountered running PythonOp function: RuntimeError: "
                       "This is an intentional exception.")
    assert isinstance(err, RuntimeError)


def test_unknown_token_is_refused_when_the_op_is_created():
    # A NetDef read from a file names a token; no function holds it in this process.
    netdef = caffe2_pb2.NetDef(name="from_file")
    netdef.op.add().CopyFrom(core.CreateOperator("Python", ["x"], ["y"], token="python_op_999999"))
    ws = Workspace()
    ws.feed_blob("x", np.ones(1))
    with pytest.raises(ArgumentError, match="No Python function is registered in this process"):
        ws.create_net(netdef)
    assert "python_op_999999" not in PYTHON_FUNCTIONS


def test_non_tensor_output_is_an_error():
    op = core.CreatePythonOperator(lambda i, o: setattr(o[0], "data", "text"), [], ["y"])
    check_raises(op, [], EnforceError, "a Python op output must hold a tensor")


def test_gradient_op_list_and_values():
    op = core.CreatePythonOperator(_double, ["x"], ["y"], grad_f=_double_grad)
    grad_ops, grads = core.GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grad_ops] == [
        ("PythonGradient", ["x", "y", "y_grad"], ["x_grad"])]
    assert grad_ops[0].arg[0].name == "token"
    op = core.CreatePythonOperator(_double_feed, ["x"], ["y"], grad_f=_double_grad_feed)
    check_gradient(op, [np.array([0.5, -1.0, 2.0])], 0)


def test_gradient_indices_choose_inputs_and_outputs():
    op = core.CreatePythonOperator(_double, ["a", "b", "c"], ["p", "q", "r"],
                                   grad_f=_double_grad, grad_output_indices=[0, 2],
                                   grad_input_indices=[1])
    grad_ops, _ = core.GradientRegistry.GetBackwardPass(
        [op], {"p": "p_grad", "q": "q_grad", "r": "r_grad"})
    assert [(list(g.input), list(g.output)) for g in grad_ops] == [
        (["a", "b", "c", "p", "q", "r", "p_grad", "r_grad"], ["b_grad"])]


def test_without_grad_function_the_gradient_op_fails_clearly():
    op = core.CreatePythonOperator(_double, ["x"], ["y"])
    grad_ops, _ = core.GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    ws = Workspace()
    for name in ("x", "y", "y_grad"):
        ws.feed_blob(name, np.ones(1))
    with pytest.raises(EnforceError, match="registered without a gradient function"):
        ws.run(grad_ops[0])


def test_caffe2_helper_via_global_workspace():
    workspace.ResetWorkspace()
    workspace.FeedBlob("x", np.array([1.0, 2.0], np.float32))
    workspace.RunOperatorOnce(core.CreatePythonOperator(_double, ["x"], ["y"]))
    np.testing.assert_array_equal(workspace.FetchBlob("y"), [2.0, 4.0])
    workspace.ResetWorkspace()


def test_bad_function_is_refused_at_registration():
    with pytest.raises(ArgumentError, match="must be callable"):
        core.CreatePythonOperator(42, ["x"], ["y"])
