from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import core, workspace
from caffe2lite.errors import BlobTypeError
from caffe2lite.builder.net import NetAssertionError
from caffe2lite.proto import caffe2_pb2


def test_create_operator_fields_and_arguments():
    option = core.DeviceOption(caffe2_pb2.CPU, 0)
    op = core.CreateOperator("Foo", ["a", core.BlobReference("b")], "c", name="n",
                             control_input=["ctl"], device_option=option, engine="E",
                             debug_info="dbg", x=1, y=2.5, s="str", none=None)
    assert (op.type, list(op.input), list(op.output), op.name) == ("Foo", ["a", "b"], ["c"], "n")
    assert list(op.control_input) == ["ctl"]
    assert (op.engine, op.debug_info) == ("E", "dbg")
    assert op.device_option == option
    assert [a.name for a in op.arg] == ["x", "y", "s"]
    assert (op.arg[0].i, op.arg[1].f, op.arg[2].s) == (1, 2.5, b"str")
    assert op.HasField("name")


def test_create_operator_random_seed_goes_to_device_option():
    op = core.CreateOperator("Foo", [], ["y"], random_seed=7, ratio=0.5)
    assert op.device_option.random_seed == 7
    assert [a.name for a in op.arg] == ["ratio"]


def test_create_operator_rejects_bad_blob_types():
    with pytest.raises(TypeError, match="I/O blob #1 of unsupported type: 3"):
        core.CreateOperator("Foo", ["a", 3], "b")
    with pytest.raises(BlobTypeError, match="Unknown input/output type: 3"):
        core.CreateOperator("Foo", 3, "b")


def test_name_and_device_scopes():
    with core.NameScope("tower"):
        with core.NameScope("inner"):
            op = core.CreateOperator("Foo", "x", core.BlobReference("kept"))
            assert core.ScopedName("w") == "tower/inner/w"
        with core.DeviceScope(core.DeviceOption(caffe2_pb2.CPU, random_seed=3)):
            seeded = core.CreateOperator("Foo", [], "y")
    assert list(op.input) == ["tower/inner/x"] and list(op.output) == ["kept"]
    assert seeded.device_option.random_seed == 3
    assert not core.CreateOperator("Foo", [], "y").HasField("device_option")
    assert core.CurrentNameScope() == ""


def test_blob_reference_behaves_like_its_name():
    b = core.BlobReference(b"scope/x")
    assert b == "scope/x" and hash(b) == hash("scope/x") and str(b) == "scope/x"
    assert repr(b) == 'BlobReference("scope/x")'
    assert b.GetNameScope() == "scope/" and b.GetUnscopedName() == "x"
    assert "pre_" + b == "pre_scope/x" and isinstance("pre_" + b, core.BlobReference)
    assert {b: 1}["scope/x"] == 1
    with pytest.raises(TypeError, match="Cannot add BlobReference to a non-string."):
        b + 1
    with pytest.raises(AttributeError, match="does not have a net source"):
        b.Relu


def test_net_names_are_unique_and_outputs_follow_caffe2_naming(scratch_ops):
    first, second = core.Net("uniq_net"), core.Net("uniq_net")
    assert (first.Name(), second.Name()) == ("uniq_net", "uniq_net_1")
    y = first.TestScale("x")
    y2 = first.TestScale("x")
    assert (str(y), str(y2)) == ("uniq_net/TestScale", "uniq_net/TestScale_2")
    assert isinstance(y, core.BlobReference) and y.Net() is first
    assert first.Proto().external_input == ["x"]
    multi = first.TestVariadic(["x", y], 1)
    assert str(multi) == "uniq_net/TestVariadic:0"
    z = y.TestScale([], "z", scale=2.0)
    assert first.Proto().op[-1].input == ["uniq_net/TestScale"] and str(z) == "z"


def test_net_attribute_errors(scratch_ops):
    net = core.Net("attrs")
    with pytest.raises(AttributeError) as e:
        net.TestScal
    assert str(e.value).startswith("Method TestScal is not a registered operator. Did you "
                                   "mean: [TestScale,")
    with pytest.raises(AttributeError):
        net.__array_interface__
    assert "TestScale" in dir(net)


def test_external_inputs_and_outputs(scratch_ops):
    net = core.Net("ext")
    x = net.AddExternalInput("x")
    assert x == "x" and isinstance(x, core.BlobReference)
    assert net.AddExternalInputs("a", "b") == ["a", "b"]
    with pytest.raises(AssertionError, match="Net already contains an input named x"):
        net.AddExternalInput("x")
    y = net.TestScale(x, "y")
    net.AddExternalOutput(y)
    with pytest.raises(NetAssertionError, match="nothere is not defined"):
        net.AddExternalOutput(core.BlobReference("nothere"))
    assert net.external_inputs == ["x", "a", "b"] and net.external_outputs == ["y"]
    assert net.BlobIsDefined("y") and net.UsesBlob("x") and not net.UsesBlob("a")
    assert net.UsedBlobNames() == {"x", "y"}
    assert str(net.NextBlob("y")) == "y_auto_0" and str(net.NextBlob("y")) == "y_auto_1"


def test_clone_remaps_blobs_and_masks_ops(scratch_ops):
    net = core.Net("orig")
    h = net.TestScale("x", "h")
    net.TestScale(h, "out")
    net.AddExternalOutput(core.BlobReference("out"))
    clone = net.Clone("copy", blob_remap={"x": "x2", "out": "out2"}, op_id_mask=[1])
    proto = clone.Proto()
    assert proto.name == "copy" and len(proto.op) == 1
    assert (list(proto.op[0].input), list(proto.op[0].output)) == (["h"], ["out2"])
    assert list(proto.external_input) == ["x2"] and list(proto.external_output) == ["out2"]
    assert len(net.Proto().op) == 2


def test_net_from_proto_continues_auto_names(scratch_ops):
    netdef = caffe2_pb2.NetDef(name="fromproto")
    netdef.op.add(type="TestScale", input=["x"], output=["fromproto_blob_3"])
    net = core.Net(netdef)
    assert net.NextName() == "fromproto_blob_4"
    netdef.op[0].type = "Changed"
    assert net.Proto().op[0].type == "TestScale"


def test_set_rand_seed(scratch_ops):
    net = core.Net("seeded")
    net.TestNoise("x", "a")
    net.TestNoise("x", "b")
    net.set_rand_seed(10)
    assert [op.device_option.random_seed for op in net.Proto().op] == [10, 11]
    net.set_rand_seed(5, sequence_seed=False)
    assert [op.device_option.random_seed for op in net.Proto().op] == [5, 5]

    def hashed_seeds():
        fresh = core.Net("hashed")
        fresh.TestNoise("x", "a")
        fresh.TestNoise("x", "b")
        fresh.set_rand_seed(5, sequence_seed=False, seed_on_op_def=True)
        return [op.device_option.random_seed for op in fresh.Proto().op]

    seeds = hashed_seeds()
    assert seeds == hashed_seeds() and seeds[0] != seeds[1]  # stable across nets and runs
    with pytest.raises(AssertionError):
        net.set_rand_seed(1, sequence_seed=True, seed_on_op_def=True)


def test_seeded_net_runs_reproducibly(scratch_ops):
    workspace.ResetWorkspace()
    net = core.Net("noise")
    net.TestNoise("x", "y")
    net.set_rand_seed(3)
    workspace.FeedBlob("x", np.zeros(4))
    workspace.RunNetOnce(net)
    once = workspace.FetchBlob("y")
    workspace.RunNetOnce(net)
    np.testing.assert_array_equal(once, workspace.FetchBlob("y"))
    workspace.CreateNet(net)
    workspace.RunNet(net)
    np.testing.assert_array_equal(once, workspace.FetchBlob("y"))
    workspace.RunNet(net)
    assert not np.array_equal(once, workspace.FetchBlob("y"))
    workspace.ResetWorkspace()


def test_const_emits_the_fill_for_the_dtype():
    workspace.ResetWorkspace()
    net = core.Net("consts")
    cases = [
        (np.array([[1.5, 2.0]], np.float32), "GivenTensorFill", np.float32),
        (np.array([1, 2], np.int32), "GivenTensorIntFill", np.int32),
        (np.array([3], np.int64), "GivenTensorInt64Fill", np.int64),
        (np.array([True, False]), "GivenTensorBoolFill", np.bool_),
    ]
    blobs = [net.Const(array) for array, _, _ in cases]
    flag = net.Const(True, blob_out="flag")
    assert [op.type for op in net.Proto().op] == [c[1] for c in cases] + ["ConstantFill"]
    assert str(blobs[0]) == "consts/GivenTensorFill:0"
    workspace.RunNetOnce(net)
    for blob, (array, _, dtype) in zip(blobs, cases):
        got = workspace.FetchBlob(blob)
        assert got.dtype == dtype and got.tolist() == array.tolist()
    assert workspace.FetchBlob(flag).tolist() is True
    workspace.ResetWorkspace()
