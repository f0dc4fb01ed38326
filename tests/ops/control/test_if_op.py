from __future__ import annotations

import re

import numpy as np
import pytest

from caffe2lite import core, testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (ArgumentError, BlobNotFoundError, DTypeError, EnforceError,
                               GradientError, ShapeError)
from caffe2lite.proto import caffe2_pb2
from caffe2lite.workspace import Workspace


def _net(name, build):
    net = core.Net(name)
    build(net)
    return net.Proto()


def _if(inputs, outputs, then=None, otherwise=None):
    kwargs = {}
    if then is not None:
        kwargs["then_net"] = then
    if otherwise is not None:
        kwargs["else_net"] = otherwise
    return CreateOperator("If", inputs, outputs, **kwargs)


THEN = _net("then", lambda n: n.Scale("x", "y", scale=2.0))
ELSE = _net("else", lambda n: n.Scale("x", "y", scale=-1.0))


def naive_if(cond, x, with_else=True):
    """What the nets compute, written out: y = 2x when cond, -x otherwise."""
    if bool(cond.reshape(-1)[0]):
        return [np.array([2 * v for v in x.tolist()], x.dtype)]
    return [np.array([-v for v in x.tolist()], x.dtype)]


@pytest.mark.parametrize("cond", [True, False])
def test_runs_the_chosen_net(cond):
    # control_ops_test.py / net_builder_test.py: If with then and else nets
    x = np.array([1.0, -2.0], np.float32)
    op = _if(["cond", "x"], ["y"], THEN, ELSE)
    testing.check_reference(op, [np.array(cond), x], naive_if)
    testing.check_reference(op, [np.array([cond]), x], naive_if)


def test_false_without_else_leaves_the_workspace_alone():
    ws = Workspace()
    ws.feed_blob("cond", np.array(False))
    ws.feed_blob("x", np.ones(2, np.float32))
    ws.feed_blob("y", np.zeros(2, np.float32))
    ws.run(_if(["cond", "x"], ["y"], THEN))
    np.testing.assert_array_equal(ws.fetch_blob("y"), np.zeros(2, np.float32))


def test_nets_run_in_the_ops_workspace():
    """Blobs the net writes that If does not declare still land in the workspace, and
    the net reads blobs If does not list as inputs, as in Caffe2."""
    then = _net("then", lambda n: (n.Scale("x", "hidden", scale=3.0),
                                   n.Add(["hidden", "bias"], "y")))
    ws = Workspace()
    ws.feed_blob("cond", np.array(True))
    ws.feed_blob("x", np.array([1.0], np.float32))
    ws.feed_blob("bias", np.array([0.5], np.float32))
    ws.run(_if(["cond"], ["y"], then))
    np.testing.assert_array_equal(ws.fetch_blob("y"), [3.5])
    np.testing.assert_array_equal(ws.fetch_blob("hidden"), [3.0])


def test_in_a_net_with_later_ops_and_nesting():
    inner = _if(["c2", "x"], ["y"], THEN, ELSE)
    outer_then = core.Net("outer_then")
    outer_then.Proto().op.extend([inner])
    net = core.Net("main")
    net.Proto().op.extend([_if(["c1", "x"], ["y"], outer_then.Proto(),
                               _net("zero", lambda n: n.Scale("x", "y", scale=0.0)))])
    net.Relu("y", "r")
    for c1, c2, want in [(True, True, [2, 0]), (True, False, [0, 2]), (False, True, [0, 0])]:
        ws = Workspace()
        for name, value in [("c1", np.array(c1)), ("c2", np.array(c2)),
                            ("x", np.array([1.0, -2.0], np.float32))]:
            ws.feed_blob(name, value)
        ws.run_net_once(net.Proto())
        np.testing.assert_array_equal(ws.fetch_blob("r"), np.array(want, np.float32))


def test_created_net_runs_many_times():
    net = core.Net("main")
    net.Proto().op.extend([_if(["cond", "x"], ["y"], THEN, ELSE)])
    ws = Workspace()
    ws.feed_blob("x", np.array([3.0], np.float32))
    ws.feed_blob("cond", np.array(True))
    ws.create_net(net)
    for cond, want in [(True, 6.0), (False, -3.0), (True, 6.0)]:
        ws.feed_blob("cond", np.array(cond))
        ws.run_net(net.Name())
        assert ws.fetch_blob("y")[0] == want


def test_errors():
    x = np.ones(1, np.float32)
    op = _if(["cond", "x"], ["y"], THEN, ELSE)
    testing.check_raises(op, [np.array(1, np.int32), x], DTypeError,
                         "caller expects elements to be bool while tensor contains int")
    testing.check_raises(op, [np.array([True, False]), x], ShapeError,
                         re.escape("condition.numel() == 1. 2 vs 1. Invalid condition tensor in "
                                   "If operator: single value expected"))
    testing.check_raises(op, [b"yes", x], DTypeError,
                         "Invalid condition in If operator: tensor expected")
    testing.check_raises(_if(["cond", "x"], ["y"], otherwise=ELSE), [np.array(True), x],
                         ArgumentError, "then_net must be specified in If operator")


def test_a_failing_net_changes_nothing():
    then = _net("then", lambda n: (n.Scale("x", "partial", scale=2.0),
                                   n.Add(["partial", "wrong_shape"], "y")))
    ws_inputs = {"cond": np.array(True), "x": np.ones(3, np.float32),
                 "wrong_shape": np.ones((2, 2), np.float32), "y": np.zeros(1, np.float32)}
    net = core.Net("main")
    net.Proto().op.extend([_if(["cond", "x", "wrong_shape"], ["y"], then)])
    testing.check_raises(net.Proto(), ws_inputs, EnforceError, "A_dim == B_dim")
    ws = Workspace()
    for k, v in ws_inputs.items():
        ws.feed_blob(k, v)
    with pytest.raises(EnforceError):
        ws.run_net_once(net.Proto())
    assert not ws.has_blob("partial")


def test_missing_blob_in_a_sub_net():
    then = _net("then", lambda n: n.Scale("nowhere", "y", scale=2.0))
    op = _if(["cond"], ["y"], then)
    testing.check_raises(op, [np.array(True)], BlobNotFoundError,
                         "Encountered a non-existing input blob: nowhere")


# -- gradient (Caffe2's Python maker, control_ops_grad.gen_if_gradient) ---------------

SCALE = _net("then", lambda n: n.Scale("x", "y", scale=3.0))
MUL = _net("else", lambda n: n.Mul(["x", "w"], "y"))


@pytest.mark.parametrize("cond", [True, False])
def test_numeric_gradient_through_either_branch(cond):
    rng = np.random.default_rng(1)
    op = _if(["cond", "x", "w"], ["y"], SCALE, MUL)
    testing.check_gradient(op, [np.array(cond), rng.standard_normal(3), rng.standard_normal(3)],
                           [1, 2])


def test_numeric_gradient_without_else():
    rng = np.random.default_rng(2)
    op = _if(["cond", "x", "w"], ["y"], MUL)
    testing.check_gradient(op, [np.array(True), rng.standard_normal(3), rng.standard_normal(3)],
                           [1, 2])


def _fill(blob, grad):
    op = caffe2_pb2.OperatorDef(type="ConstantFill", input=[blob], output=[grad])
    op.arg.add(name="value", f=0.0)
    return op


def test_gradient_ops_list():
    op = _if(["cond", "x", "w"], ["y"], SCALE, MUL)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    then_ops, _ = GradientRegistry.GetBackwardPass(list(SCALE.op), {"y": "y_grad"})
    else_ops, _ = GradientRegistry.GetBackwardPass(list(MUL.op), {"y": "y_grad"})
    then_grad = caffe2_pb2.NetDef(name=SCALE.name + "_grad")
    # only the else branch computes w's gradient: the then branch fills zeros like w
    then_grad.op.extend(list(then_ops) + [_fill("w", "w_grad")])
    else_grad = caffe2_pb2.NetDef(name=MUL.name + "_grad")
    else_grad.op.extend(else_ops)
    want = caffe2_pb2.OperatorDef(type="If", name="", input=["cond", "w", "x", "y_grad"],
                                       output=["w_grad", "x_grad"], is_gradient_op=True)
    want.arg.add(name="then_net", n=then_grad)
    want.arg.add(name="else_net", n=else_grad)
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert {str(k): str(v) for k, v in grads.items()} == {
        "y": "y_grad", "x": "x_grad", "w": "w_grad"}


def test_gradient_without_else_gets_a_zero_filling_else_net():
    op = _if(["cond", "x", "w"], ["y"], MUL)
    op.name = "choose"
    (grad_if,), _ = GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    assert grad_if.name == "choose_grad"
    nets = {a.name: a.n for a in grad_if.arg}
    assert nets["else_net"].name == MUL.name + "_grad_auto_else_zero_blobs_"
    assert [o.SerializeToString() for o in nets["else_net"].op] == [
        _fill("w", "w_grad").SerializeToString(), _fill("x", "x_grad").SerializeToString()]


def test_one_gradient_for_two_outputs_is_deduplicated():
    then = _net("then", lambda n: (n.Scale("x", "a", scale=2.0), n.Scale("x", "b", scale=5.0)))
    op = _if(["cond", "x"], ["a", "b"], then)
    ops, g_input = GradientRegistry.GetGradientForOp(op, ["g", "g"])
    copy = caffe2_pb2.OperatorDef(type="Copy", input=["g"], output=["b_g_DEDUP"])
    assert ops[0].SerializeToString() == copy.SerializeToString()
    assert "b_g_DEDUP" in ops[1].input
    assert g_input[1] == "x_grad"


def test_gradient_needs_an_output_gradient():
    op = _if(["cond", "x"], ["y"], THEN)
    with pytest.raises(GradientError, match="Empty initial gradient map for If op"):
        GradientRegistry.GetGradientForOp(op, [None])


def test_disambiguate_grad_if_op_output():
    # control_ops_grad_test.py: test_disambiguate_grad_if_op_output
    from caffe2lite.ops.control.if_op import disambiguate_grad_if_op_output

    then = _net("then_test_model", lambda n: n.Copy("then_grad", "input_grad"))
    otherwise = _net("else_test_model", lambda n: (n.Copy("else_grad", "else_temp_grad"),
                                                   n.Copy("else_temp", "input_grad")))
    grad_op = _if(["cond", "then_grad", "else_grad"], ["input_grad", "else_temp_grad"], then,
                  otherwise)
    new = "input_grad_autosplit_0"
    disambiguate_grad_if_op_output(grad_op, 0, new)
    assert grad_op.output[0] == new
    nets = {a.name: a.n for a in grad_op.arg}
    assert nets["else_net"].op[1].output[0] == new
    assert nets["then_net"].op[0].output[0] == new
    assert nets["else_net"].op[0].output[0] == "else_temp_grad"
    ws = Workspace()
    for name, value in [("cond", np.array(True)), ("then_grad", np.array(1)),
                        ("else_grad", np.array(2)), ("else_temp", np.array(3))]:
        ws.feed_blob(name, value)
    ws.run(grad_op)
    assert ws.fetch_blob(new) == 1


@pytest.mark.parametrize("cond", [True, False])
def test_gradient_in_a_net(cond):
    """If between other ops, gradients from AddGradientOperators: x feeds both the If
    and a later op, so its two gradients are summed, the If's renamed
    ``_x_grad_autosplit_0`` (its nets still say x_grad: the kernel renames them too,
    as Caffe2's disambiguate_grad_if_op_output did)."""
    net = core.Net("main")
    net.Proto().op.extend([_if(["cond", "x", "w"], ["y"], SCALE, MUL)])
    net.AddExternalInputs("cond", "x", "w")
    net.Add(["y", "x"], "z")
    net.SquaredL2Distance(["z", "target"], "dist")
    net.AveragedLoss("dist", "loss")
    forward = core.Net(net.Proto())
    grads = net.AddGradientOperators({"loss": "loss_grad"})
    net.AddExternalInput("loss_grad")
    grad_if = [op for op in net.Proto().op if op.type == "If" and op.is_gradient_op]
    assert list(grad_if[0].output) == ["w_grad", "_x_grad_autosplit_0"]
    rng = np.random.default_rng(4)
    blobs = {"cond": np.array(cond), "x": rng.standard_normal((2, 3)),
             "w": rng.standard_normal((2, 3)), "target": rng.standard_normal((2, 3)),
             "loss_grad": np.array(1.0)}

    def run(netdef, values):
        ws = Workspace()
        for name, value in values.items():
            ws.feed_blob(name, value)
        ws.run_net_once(netdef)
        return ws

    ws = run(net.Proto(), blobs)
    for name in ("x", "w"):
        analytic = ws.fetch_blob(str(grads[name]))
        numeric = np.zeros_like(analytic)
        for idx in np.ndindex(*analytic.shape):
            step = np.zeros_like(blobs[name])
            step[idx] = 1e-6
            up = run(forward.Proto(), {**blobs, name: blobs[name] + step}).fetch_blob("loss")
            down = run(forward.Proto(), {**blobs, name: blobs[name] - step}).fetch_blob("loss")
            numeric[idx] = (up - down) / 2e-6
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=name)
