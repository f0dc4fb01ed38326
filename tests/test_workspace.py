from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import core, workspace
from caffe2lite.errors import (
    ApiValueError,
    BlobNotFoundError,
    BlobTypeError,
    Caffe2LiteError,
    DTypeError,
    EnforceError,
    NetCompileError,
    NetError,
    SchemaError,
    UnknownOperatorError,
)
from caffe2lite.proto import caffe2_pb2
from caffe2lite.testing import check_raises


@pytest.fixture(autouse=True)
def fresh_workspace():
    workspace.SwitchWorkspace("default")
    workspace.ResetWorkspace()
    yield
    workspace.SwitchWorkspace("default")
    workspace.ResetWorkspace()


def test_feed_fetch_copy_semantics():
    x = np.array([1.0, 2.0], dtype=np.float32)
    assert workspace.FeedBlob("x", x) is True
    x[0] = 99.0
    got = workspace.FetchBlob("x")
    np.testing.assert_array_equal(got, np.array([1.0, 2.0], dtype=np.float32))
    got[1] = 42.0
    np.testing.assert_array_equal(workspace.FetchBlob("x"), [1.0, 2.0])
    assert workspace.FetchBlob("x").dtype == np.float32


def test_feed_strings_tensorproto_and_blob_reference():
    workspace.FeedBlob("s", "hello")
    assert workspace.FetchBlob("s") == b"hello"
    workspace.FeedBlob(core.BlobReference("r"), np.array(["a", "bc"]))
    got = workspace.FetchBlob("r")
    assert got.dtype == object and got.tolist() == [b"a", b"bc"]
    tp = caffe2_pb2.TensorProto(dims=[2], data_type=caffe2_pb2.TensorProto.INT64, int64_data=[5, 6])
    workspace.FeedBlob("t", tp)
    got = workspace.FetchBlob("t")
    assert got.dtype == np.int64 and got.tolist() == [5, 6]


def test_feed_rejects_other_types_with_caffe2_message():
    with pytest.raises(BlobTypeError, match="Unexpected type of argument - only numpy array or "
                                            "string are supported for feeding"):
        workspace.FeedBlob("x", [1, 2])
    with pytest.raises(TypeError):
        workspace.FeedBlob(3, np.zeros(1))


def test_fetch_missing_blob_is_runtime_error_with_suggestion():
    workspace.FeedBlob("lengths", np.zeros(1, np.int32))
    with pytest.raises(RuntimeError) as e:
        workspace.FetchBlob("lenghts")
    assert isinstance(e.value, BlobNotFoundError)
    assert str(e.value) == "Can't find blob: lenghts; did you mean 'lengths'? (blob 'lenghts')"


def test_blob_listing_and_dict_interface():
    workspace.FeedBlob("b", np.zeros(1))
    workspace.CreateBlob("a")
    assert workspace.Blobs() == ["a", "b"]
    assert workspace.HasBlob("a") and not workspace.HasBlob("c")
    workspace.blobs["c"] = np.ones(2)
    assert "c" in workspace.blobs and len(workspace.blobs) == 3
    np.testing.assert_array_equal(workspace.blobs["c"], np.ones(2))
    del workspace.blobs["c"]
    assert list(workspace.blobs) == ["a", "b"]
    with pytest.raises(BlobNotFoundError, match="created but never fed"):
        workspace.FetchBlob("a")


def test_switch_workspace_and_reset():
    workspace.FeedBlob("x", np.zeros(1))
    with pytest.raises(NetError, match="Workspace other does not exist"):
        workspace.SwitchWorkspace("other")
    workspace.SwitchWorkspace("other", True)
    assert workspace.CurrentWorkspace() == "other"
    assert "other" in workspace.Workspaces()
    assert workspace.Blobs() == []
    workspace.SwitchWorkspace("default")
    assert workspace.Blobs() == ["x"]
    assert workspace.ResetWorkspace() is True
    assert workspace.Blobs() == []


def test_run_operator_once_and_failures_keep_blobs(scratch_ops):
    workspace.FeedBlob("x", np.array([1.0, 2.0]))
    assert workspace.RunOperatorOnce(core.CreateOperator("TestScale", "x", "y", scale=2.0))
    np.testing.assert_array_equal(workspace.FetchBlob("y"), [2.0, 4.0])
    workspace.FeedBlob("lengths", np.array([1], dtype=np.int64))
    with pytest.raises(DTypeError) as e:
        workspace.RunOperatorOnce(core.CreateOperator("TestCheck", ["x", "lengths"], ["y"]))
    assert str(e.value) == e.value.enforce_prefix() + (
        "op TestCheck: Tensor type mismatch, caller expects elements to be int while tensor "
        "contains long (blob 'Lengths=lengths': expected int32, found int64)")
    np.testing.assert_array_equal(workspace.FetchBlob("y"), [2.0, 4.0])


def test_run_operator_once_missing_input_and_unknown_type(scratch_ops):
    with pytest.raises(BlobNotFoundError) as e:
        workspace.RunOperatorOnce(core.CreateOperator("TestScale", "nope", "y"))
    assert str(e.value) == ("op TestScale: Encountered a non-existing input blob: nope "
                            "(blob 'nope')")
    with pytest.raises(UnknownOperatorError, match="did you mean 'TestScale'"):
        workspace.RunOperatorOnce(core.CreateOperator("TestScael", [], "y"))


def test_kernel_crash_is_wrapped_and_leaves_blobs(scratch_ops):
    op = core.CreateOperator("TestBroken", "x", "x_out")
    err = check_raises(op, [np.arange(3.0)], EnforceError, r"^\[enforce fail at conftest.py:\d+\] op TestBroken: ValueError: ")
    assert isinstance(err.__cause__, ValueError)


def test_several_problems_reported_together(scratch_ops):
    workspace.FeedBlob("x", np.zeros(2))
    with pytest.raises(NetCompileError) as e:
        workspace.RunOperatorOnce(core.CreateOperator("TestNoise", ["x", "x"], ["y"], ratio=2.0))
    assert len(e.value.problems) == 2
    assert str(e.value).startswith("op TestNoise has 2 problems:\n  - op TestNoise: Input size 2")
    assert isinstance(e.value.problems[0], SchemaError)


def test_standalone_workspace_object_like_caffe2_tests(scratch_ops):
    ws = workspace.C.Workspace()
    ws.create_blob("X").feed(np.array([1.0, -1.0]))
    assert ws.run(core.CreateOperator("TestScale", ["X"], ["Y"], scale=3.0))
    np.testing.assert_array_equal(ws.blobs["Y"].fetch(), [3.0, -3.0])
    assert sorted(ws.blobs) == ["X", "Y"] and ws.has_blob("Y")
    assert not workspace.HasBlob("Y")  # the global workspace is untouched
    with pytest.raises(ApiValueError, match="Don't know how to do Workspace.run\\(\\) on"):
        ws.run(42)
    assert workspace.C.Workspace.current is workspace.C.Workspace.current


def test_create_net_run_net_and_overwrite(scratch_ops):
    net = core.Net("train")
    net.TestScale("x", "y", scale=2.0)
    workspace.FeedBlob("x", np.array([1.0]))
    assert workspace.CreateNet(net)
    assert workspace.RunNet(net.Name(), num_iter=3)
    np.testing.assert_array_equal(workspace.FetchBlob("y"), [2.0])
    with pytest.raises(NetError, match='I respectfully refuse to overwrite an existing net of '
                                       f'the same name "{net.Name()}", unless you explicitly '
                                       'specify overwrite=true.'):
        workspace.CreateNet(net)
    assert workspace.CreateNet(net, overwrite=True)
    with pytest.raises(NetError, match="Can't find net missing"):
        workspace.RunNet("missing")
    with pytest.raises(NetError, match="Net definition should have a name."):
        workspace.CreateNet(caffe2_pb2.NetDef())


def test_run_net_failure_and_allow_fail(scratch_ops):
    net = core.Net("checking")
    net.TestCheck(["x", "lengths"], "y")
    workspace.FeedBlob("x", np.zeros(3))
    workspace.FeedBlob("lengths", np.array([1, 1], dtype=np.int32))
    workspace.CreateNet(net)
    with pytest.raises(EnforceError) as e:
        workspace.RunNet("checking")
    assert str(e.value) == e.value.enforce_prefix() + (
        "op #0 TestCheck in net 'checking': Inconsistent input data. "
                            "(blob 'Lengths=lengths': expected 3, found 2)")
    assert e.value.op_index == 0 and e.value.op_type == "TestCheck"
    assert workspace.RunNet("checking", allow_fail=True) is False
    # CreateNet made the output blob (as Caffe2 did); the failing op never filled it.
    assert workspace.HasBlob("y")
    with pytest.raises(BlobNotFoundError, match="created but never fed"):
        workspace.FetchBlob("y")


def test_run_net_once_accepts_net_and_netdef(scratch_ops):
    net = core.Net("once")
    net.TestScale("x", "y", offset=1)
    workspace.FeedBlob("x", np.array([1, 2], dtype=np.int64))
    assert workspace.RunNetOnce(net)
    assert workspace.FetchBlob("y").tolist() == [2, 3]
    assert workspace.RunNetOnce(net.Proto().SerializeToString())
    assert "once" not in workspace.C.Workspace.current.nets


def test_stringify_proto_and_registered_operators(scratch_ops):
    op = core.CreateOperator("TestScale", "x", "y")
    assert workspace.StringifyProto(op) == op.SerializeToString()
    assert workspace.StringifyProto("s") == "s"
    net = core.Net("s")
    assert workspace.StringifyProto(net) == net.Proto().SerializeToString()
    with pytest.raises(ValueError, match="Unexpected argument to StringifyProto of type"):
        workspace.StringifyProto(3)
    assert "TestScale" in workspace.RegisteredOperators()


def test_every_error_is_a_caffe2lite_runtime_error():
    for cls in (BlobNotFoundError, NetError, SchemaError, DTypeError, UnknownOperatorError):
        assert issubclass(cls, Caffe2LiteError) and issubclass(cls, RuntimeError)


def test_feed_normalises_byte_order_and_object_strings():
    workspace.FeedBlob("be", np.array([1.5, 2.5], dtype=">f4"))
    got = workspace.FetchBlob("be")
    assert got.dtype == np.float32 and got.tolist() == [1.5, 2.5]
    workspace.FeedBlob("o", np.array(["x", b"y"], dtype=object))
    assert workspace.FetchBlob("o").tolist() == [b"x", b"y"]
