"""caffe2lite.core beyond CreateOperator and Net basics: behaviour matched to Caffe2."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from caffe2lite import core, workspace
from caffe2lite.errors import ApiValueError, EnforceError, NetError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.workspace import Workspace


def test_device_scope_with_falsy_scope_sets_only_the_node_name():
    with core.DeviceScope(0, node_name="node:0"):
        op = core.CreateOperator("Relu", "x", "y")
    assert op.HasField("device_option")
    assert op.device_option == caffe2_pb2.DeviceOption(node_name="node:0")
    with core.DeviceScope(None, node_name="node:1"):
        assert core.CreateOperator("Relu", "x", "y").device_option.node_name == "node:1"
    with pytest.raises(AssertionError, match="At least one argument should be non-null"):
        with core.DeviceScope(None):
            pass
    with pytest.raises(ApiValueError, match="takes in a caffe2_pb2.DeviceOption"):
        with core.DeviceScope(1):
            pass
    gpu = core.DeviceOption(caffe2_pb2.CUDA, 1)
    with core.DeviceScope(gpu, node_name="n"):
        op = core.CreateOperator("Relu", "x", "y")
    assert (op.device_option.device_type, op.device_option.device_id,
            op.device_option.node_name) == (caffe2_pb2.CUDA, 1, "n")


def test_is_operator_with_engine_default_names():
    assert core.IsOperatorWithEngine("Relu", "DEFAULT")
    assert core.IsOperatorWithEngine("Relu", "")
    assert not core.IsOperatorWithEngine("Relu", "NOEXIST")
    assert "Relu" in core._REGISTERED_OPERATORS
    assert "NOEXIST" not in core._REGISTERED_OPERATORS


def test_net_from_proto_inplace_uses_that_proto():
    proto = caffe2_pb2.NetDef(name="given")
    net = core.Net(proto, inplace=True)
    net.Relu("x", "y")
    assert net.Proto() is proto and len(proto.op) == 1
    copied = core.Net(proto)
    copied.Relu("y", "z")
    assert len(proto.op) == 1 and len(copied.Proto().op) == 2


def test_clone_with_mask_recomputes_external_lists():
    n = core.Net("original")
    a1, a2 = n.AddExternalInput("a1", "a2")
    b1, b2 = n.Concat([a1, a2], ["b1", "b2"], axis=0)
    c1 = n.Sum([b1, "p1"], ["c1"])
    c2 = n.Sum([b2], ["c2"])
    n.Sum([c1, c2], ["d"])
    first = n.Clone("first", op_id_mask=[0, 1], update_external_list=True)
    assert sorted(map(str, first.external_inputs)) == ["a1", "a2", "p1"]
    assert sorted(map(str, first.external_outputs)) == ["b2", "c1"]
    second = n.Clone("second", op_id_mask=[2, 3], update_external_list=True)
    assert sorted(map(str, second.external_inputs)) == ["b2", "c1"]
    assert sorted(map(str, second.external_outputs)) == ["d"]
    kept = n.Clone("kept", op_id_mask=[0, 1])
    assert list(kept.Proto().external_input) == list(n.Proto().external_input)


def test_clone_partial():
    n = core.Net("partial_src")
    a1, a2 = n.AddExternalInput("a1", "a2")
    b1, b2 = n.Concat([a1, a2], ["b1", "b2"], axis=0)
    c1 = n.Sum([b1, "p1"], ["c1"])
    c2 = n.Sum([b2], ["c2"])
    d = n.Sum([c1, c2], ["d"])
    clone, (d2,) = n.ClonePartial("f1", {a1: "a11", a2: "a22"}, [d])
    proto = clone.Proto()
    assert [op.type for op in proto.op] == ["Concat", "Sum", "Sum", "Sum"]
    assert set(proto.external_input) == {"a11", "a22", "p1"}
    assert list(proto.external_output) == ["f1/d"]
    assert str(d2) == "f1/d" and d2.Net() is clone
    clone2, (c22,) = n.ClonePartial("f3", [b1], [c1])
    assert [list(op.input) for op in clone2.Proto().op] == [["b1", "p1"]]
    assert str(c22) == "f3/c1"
    with pytest.raises(AssertionError, match="would generate the given input"):
        n.ClonePartial("bad", [a1, a2, c2], [d])


def test_populate_proto_with_file_name():
    net = core.Net("where")
    net.Relu("x", "y"); line = inspect.currentframe().f_lineno
    net.PopulateProtoWithFileName()
    assert net.Proto().op[0].name == f"{__file__}:{line}:test_populate_proto_with_file_name"
    net._CheckLookupTables()


def test_device_option_equal_and_gpu_types():
    a, b = core.DeviceOption(0), core.DeviceOption(0)
    b.node_name = "other"
    assert core.device_option_equal(a, b)
    assert not core.device_option_equal(a, b, ignore_node_name=False)
    c = caffe2_pb2.DeviceOption(device_id=5)
    assert core.device_option_equal(a, c)  # on the CPU the id does not matter
    assert not core.device_option_equal(a, core.DeviceOption(caffe2_pb2.CUDA))
    assert core.IsGPUDeviceType(caffe2_pb2.CUDA) and core.IsGPUDeviceType(caffe2_pb2.HIP)
    assert not core.IsGPUDeviceType(caffe2_pb2.CPU)


def test_infer_op_blob_devices():
    option = core.DeviceOption(caffe2_pb2.CPU, 0, node_name="n")
    op = core.CreateOperator("FC", ["x", "w", "b"], ["y"], device_option=option)
    inputs, outputs = core.InferOpBlobDevicesAsDict(op)
    assert inputs == {"x": option, "w": option, "b": option} and outputs == {"y": option}
    ins, outs = core.InferOpBlobDevices(core.CreateOperator("Relu", "x", "y"))
    assert ins == [caffe2_pb2.DeviceOption()] and outs == [caffe2_pb2.DeviceOption()]


def test_inject_cross_device_copies_is_a_no_op_on_cpu():
    net = core.Net("cpu_only")
    net.Relu("x", "y")
    new_net, devices = core.InjectCrossDeviceCopies(net)
    assert [op.type for op in new_net.Proto().op] == ["Relu"]
    assert devices["y"] == caffe2_pb2.DeviceOption()
    with core.DeviceScope(core.DeviceOption(caffe2_pb2.CUDA, 1)):
        net.Relu("y", "z")
    with pytest.raises(ApiValueError, match="caffe2lite runs on the CPU only"):
        core.InjectCrossDeviceCopies(net)


def test_engine_preferences_choose_a_registered_engine():
    op = core.CreateOperator("Relu", "x", "y")
    core.SetEnginePref({}, {caffe2_pb2.CPU: ["NOSUCH", "DEFAULT"]})
    try:
        ws = Workspace()
        ws.feed_blob("x", np.array([-1.0, 2.0], np.float32))
        ws.run(op)
        assert ws.fetch_blob("y").tolist() == [0.0, 2.0]
    finally:
        core.SetEnginePref({}, {})
    with pytest.raises(ApiValueError, match="expected a list of engine names"):
        core.SetEnginePref({}, {caffe2_pb2.CPU: "DEFAULT"})


def test_reroute_tensor():
    net = core.Net("reroute")
    net.Relu("x", "h")
    net.Relu("h", "out")
    new_op = core.CreateOperator("Copy", ["h"], ["h_copy"])
    assert net.reroute_tensor("h", new_op, [net.Proto().op[1]]) == 1
    assert [op.type for op in net.Proto().op] == ["Relu", "Copy", "Relu"]
    assert list(net.Proto().op[2].input) == ["h_copy"]


def test_enforce_failures_carry_caffe2_wording():
    ws = Workspace()
    ws.feed_blob("X", np.zeros(3, np.int64))
    ws.feed_blob("L", np.array([1, 1], np.int32))
    op = core.CreateOperator("SparseDropoutWithReplacement", ["X", "L"], ["Y", "LO"])
    with pytest.raises(EnforceError) as e:
        ws.run(op)
    message = str(e.value)
    assert message.startswith("[enforce fail at sparse_dropout_with_replacement_op.cc:")
    assert "Inconsistent input data" in message
    assert EnforceError("x", condition="a == b").enforce_prefix().endswith("] a == b. ")


def test_net_declaring_inputs_refuses_unknown_sources():
    ws = Workspace()
    ws.feed_blob("x", np.ones(2, np.float32))
    ws.feed_blob("extra", np.ones(2, np.float32))
    net = core.Net("declares")
    x = net.AddExternalInput("x")
    net.Sum([x, "extra_not_declared"], "s")  # auto-declares the new input...
    net.Proto().op.add().CopyFrom(core.CreateOperator("Sum", ["s", "extra"], "t"))
    with pytest.raises(NetError, match="Source for input extra is unknown for net"):
        ws.create_net(net)
    workspace.ResetWorkspace()
