from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import core
from caffe2lite.errors import (
    BlobNotFoundError,
    EnforceError,
    NetCompileError,
    NetError,
    SchemaError,
    UnknownOperatorError,
)
from caffe2lite.proto import caffe2_pb2
from caffe2lite.workspace import Workspace


def _net(name, *ops, external_input=(), external_output=()):
    net = caffe2_pb2.NetDef(name=name)
    net.op.extend(ops)
    net.external_input.extend(external_input)
    net.external_output.extend(external_output)
    return net


def test_all_problems_of_a_net_are_reported_before_anything_runs(scratch_ops):
    ws = Workspace()
    ws.feed_blob("x", np.zeros(2))
    net = _net(
        "bad",
        core.CreateOperator("TestScale", "x", "y"),
        core.CreateOperator("TestScael", "y", "z"),
        core.CreateOperator("TestNoise", "y", "w", ratio=3.0),
        core.CreateOperator("TestScale", "missing", "v"),
        core.CreateOperator("TestCheck", ["x"], ["u"]),
    )
    with pytest.raises(NetCompileError) as e:
        ws.create_net(net)
    messages = [str(p) for p in e.value.problems]
    assert messages == [
        "op #1 TestScael in net 'bad': Cannot create operator of type 'TestScael' on the "
        "device 'CPU': no operator of that type is registered; did you mean 'TestScale'? "
        "(expected a registered operator type, found 'TestScael')",
        "op #2 TestNoise in net 'bad': Ratio should be a valid probability "
        "(argument 'ratio': expected 0 <= ratio <= 1, found 3.0)",
        "op #3 TestScale in net 'bad': Encountered a non-existing input blob: missing "
        "(blob 'missing')",
        "op #4 TestCheck in net 'bad': Input size 1 not in range [min=2, max=2]. "
        "(expected 2 inputs, found 1)",
    ]
    assert str(e.value).startswith("net 'bad' has 4 problems:\n  - op #1 TestScael")
    assert not ws.has_blob("y") and "bad" not in ws.nets


def test_single_problem_raised_as_itself(scratch_ops):
    net = _net("one", core.CreateOperator("TestScale", ["x", "x"], "y"), external_input=["x"])
    with pytest.raises(SchemaError, match=r"^op #0 TestScale in net 'one': Input size 2"):
        _ws_with(x=np.ones(1)).create_net(net)


def test_external_inputs_must_exist_at_creation(scratch_ops):
    # Caffe2 created each op's input blobs at net creation: a missing one fails then.
    ws = Workspace()
    net = _net("late", core.CreateOperator("TestScale", "x", "y", scale=3.0),
               external_input=["x"], external_output=["y"])
    with pytest.raises(BlobNotFoundError) as e:
        ws.create_net(net)
    assert str(e.value) == ("op #0 TestScale in net 'late': Encountered a non-existing input "
                            "blob: x (blob 'x')")
    assert "late" not in ws.nets
    ws.feed_blob("x", np.array([2.0]))
    ws.create_net(net)
    ws.run_net("late")
    assert ws.fetch_blob("y").tolist() == [6.0]


def test_create_net_creates_output_blobs(scratch_ops):
    ws = _ws_with(x=np.array([2.0]))
    ws.create_net(_net("outs", core.CreateOperator("TestScale", "x", "y"),
                       core.CreateOperator("TestScale", "y", "z")))
    assert ws.has_blob("y") and ws.has_blob("z")
    with pytest.raises(BlobNotFoundError, match="created but never fed"):
        ws.fetch_blob("z")


def test_declared_inputs_make_undeclared_sources_an_error(scratch_ops):
    # Once a net declares external inputs, every op input must be one of them or an
    # earlier op's output (even when the blob is in the workspace).
    ws = _ws_with(x=np.ones(1), w=np.ones(1))
    net = _net("declared", core.CreateOperator("TestScale", "x", "y"),
               core.CreateOperator("Sum", ["y", "w"], "z"), external_input=["x"])
    with pytest.raises(NetError) as e:
        ws.create_net(net)
    assert "op #1 Sum in net 'declared': Source for input w is unknown for net declared" in \
        str(e.value)
    net.external_input.append("w")
    ws.create_net(net)
    # Without any declared input nothing is checked but existence.
    ws.create_net(_net("undeclared", core.CreateOperator("Sum", ["x", "w"], "z")))


def test_external_output_must_be_produced(scratch_ops):
    net = _net("outs", core.CreateOperator("TestScale", "x", "y"), external_input=["x"],
               external_output=["y", "nope"])
    with pytest.raises(BlobNotFoundError, match="Some of the blobs are declared as output but "
                                                "never produced by the net outs, the first one "
                                                "is nope"):
        _ws_with(x=np.ones(1)).create_net(net)


def test_net_device_option_seeds_ops_without_their_own(scratch_ops):
    def run(seed, own=None):
        ws = Workspace()
        ws.feed_blob("x", np.zeros(3))
        ops = [core.CreateOperator("TestNoise", "x", "y")]
        if own is not None:
            ops[0].device_option.random_seed = own
        net = _net("seeded", *ops)
        net.device_option.random_seed = seed
        ws.run_net_once(net)
        return ws.fetch_blob("y")

    np.testing.assert_array_equal(run(1), run(1))
    assert not np.array_equal(run(1), run(2))
    np.testing.assert_array_equal(run(1, own=9), run(2, own=9))


def test_node_name_must_be_empty(scratch_ops):
    op = core.CreateOperator("TestScale", "x", "y")
    op.device_option.node_name = "remote"
    with pytest.raises(SchemaError, match="node_name must be empty for all operators at "
                                          "execution time."):
        _ws_with(x=np.ones(1)).create_net(_net("n", op, external_input=["x"]))


def test_failing_op_in_a_net_leaves_earlier_results_and_its_own_outputs(scratch_ops):
    ws = Workspace()
    ws.feed_blob("x", np.ones(2))
    ws.feed_blob("lengths", np.array([5], dtype=np.int32))
    ws.feed_blob("z", np.array([7.0]))
    net = _net("partial", core.CreateOperator("TestScale", "x", "y", scale=2.0),
               core.CreateOperator("TestCheck", ["y", "lengths"], "z"))
    with pytest.raises(EnforceError, match="Inconsistent input data"):
        ws.run_net_once(net)
    assert ws.fetch_blob("y").tolist() == [2.0, 2.0]
    assert ws.fetch_blob("z").tolist() == [7.0]


def test_unknown_operator_is_a_runtime_error(scratch_ops):
    with pytest.raises(RuntimeError):
        Workspace().run_operator_once(core.CreateOperator("NoSuchOp", [], "y"))
    assert issubclass(UnknownOperatorError, RuntimeError)


def _plan_workspace():
    ws = Workspace()
    ws.feed_blob("x", np.array([1.0]))
    return ws


def test_plan_runs_steps_nets_and_iterations(scratch_ops):
    ws = _plan_workspace()
    inc = core.Net("inc")
    inc.TestScale("x", "x", offset=1)
    twice = core.Net("twice")
    twice.TestScale("x", "y", scale=2.0)
    step = core.execution_step("main", [core.execution_step("loop", inc, num_iter=3),
                                        core.execution_step("end", twice)])
    plan = core.Plan(step)
    assert ws.run_plan(plan)
    assert ws.fetch_blob("x").tolist() == [4.0] and ws.fetch_blob("y").tolist() == [8.0]
    assert {"inc", "twice"} <= set(ws.nets)


def test_plan_should_stop_blob_only_once_and_child_workspace(scratch_ops):
    ws = _plan_workspace()
    ws.feed_blob("stop", np.array(False))
    inc = core.Net("inc2")
    inc.TestScale("x", "x", offset=1)
    once = core.Net("once2")
    once.TestScale("x", "first_x")
    scratch = core.Net("scratch2")
    scratch.TestScale("x", "temp")
    loop = core.execution_step("loop", [core.execution_step("init", once, only_once=True),
                                        core.execution_step("body", inc)], num_iter=4)
    child = core.execution_step("child", scratch, create_workspace=True)
    ws.run_plan(core.Plan(core.execution_step("all", [loop, child])))
    assert ws.fetch_blob("x").tolist() == [5.0]
    assert ws.fetch_blob("first_x").tolist() == [1.0]
    assert not ws.has_blob("temp")
    stopper = core.execution_step("stopper", inc, should_stop_blob="stop", num_iter=10)
    ws.feed_blob("stop", np.array(True))
    ws.run_plan(core.Plan(stopper))
    assert ws.fetch_blob("x").tolist() == [5.0]


def test_plan_errors(scratch_ops):
    ws = _plan_workspace()
    plan = caffe2_pb2.PlanDef(name="p")
    plan.execution_step.add(name="s", network=["ghost"])
    with pytest.raises(NetError, match="Net ghost referenced by execution step 's' is not in"):
        ws.run_plan(plan)
    both = caffe2_pb2.PlanDef(name="q")
    step = both.execution_step.add(name="b", network=["ghost"])
    step.substep.add(name="c")
    with pytest.raises(NetError, match="Steps cannot have both substeps and networks"):
        ws.run_plan(both)


def _ws_with(**blobs):
    ws = Workspace()
    for name, value in blobs.items():
        ws.feed_blob(name, value)
    return ws
