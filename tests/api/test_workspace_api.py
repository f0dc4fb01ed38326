"""caffe2lite.workspace functions Caffe2 scripts and tests call (beyond feed/fetch/run)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from caffe2lite import core, workspace
from caffe2lite.errors import (
    ApiTypeError,
    ApiValueError,
    BlobNotFoundError,
    BlobTypeError,
    EnforceError,
    NetError,
)
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.flags import FLAGS


@pytest.fixture(autouse=True)
def fresh_default_workspace():
    workspace.SwitchWorkspace("default")
    workspace.ResetWorkspace()
    yield
    workspace.StopImmediate()
    workspace.SwitchWorkspace("default")
    workspace.ResetWorkspace()


def test_global_init_accepts_caffe2_flags_and_names_an_unknown_one():
    assert workspace.GlobalInit(["caffe2", "--caffe2_log_level=2",
                                 "--caffe2_omp_num_threads", "3", "--caffe2_keep_on_shrink",
                                 "--nocaffe2_print_stacktraces"])
    assert FLAGS["caffe2_log_level"] == 2 and FLAGS["caffe2_omp_num_threads"] == 3
    assert FLAGS["caffe2_keep_on_shrink"] is True
    with pytest.raises(ApiValueError, match="unrecognized commandline argument: "
                                            "--caffe2_log_levl=0; did you mean 'caffe2_log_level'"):
        workspace.GlobalInit(["caffe2", "--caffe2_log_levl=0"])
    with pytest.raises(ApiValueError, match="illegal value for flag --caffe2_log_level"):
        workspace.GlobalInit(["caffe2", "--caffe2_log_level=high"])
    assert FLAGS["caffe2_log_level"] == 2  # a refused call changes nothing
    workspace.GlobalInit(["caffe2", "--caffe2_log_level=0"])


def test_infer_shapes_and_types_from_the_workspace_and_from_a_map():
    net = core.Net("infer")
    net.FC(["X", "W", "b"], "h")
    net.Relu("h", "r")
    workspace.FeedBlob("X", np.zeros((4, 3), np.float32))
    workspace.FeedBlob("W", np.zeros((5, 3), np.float32))
    workspace.FeedBlob("b", np.zeros(5, np.float32))
    workspace.FeedBlob("ids", np.zeros(7, np.int64))  # blobs already there are reported
    shapes, types = workspace.InferShapesAndTypes([net])
    assert shapes == {"X": [4, 3], "W": [5, 3], "b": [5], "ids": [7], "h": [4, 5], "r": [4, 5]}
    assert types["r"] == caffe2_pb2.TensorProto.FLOAT
    assert types["ids"] == caffe2_pb2.TensorProto.INT64
    shapes, types = workspace.InferShapesAndTypes(
        [net.Proto()], {"X": [2, 3], "W": [6, 3], "b": [6]}, nets_proto=True,
        blob_types={"X": caffe2_pb2.TensorProto.DOUBLE, "W": caffe2_pb2.TensorProto.DOUBLE,
                    "b": caffe2_pb2.TensorProto.DOUBLE})
    assert shapes["r"] == [2, 6] and types["r"] == caffe2_pb2.TensorProto.DOUBLE
    assert "ids" not in shapes


def test_infer_shapes_leaves_out_unknown_and_symbolic_shapes():
    net = core.Net("unknowns")
    net.Relu("missing", "y")
    net.SparseDropoutWithReplacement(["ids", "lengths"], ["out", "out_lengths"], ratio=0.5)
    shapes, _ = workspace.InferShapesAndTypes(
        [net], {"ids": [6], "lengths": [2]},
        blob_types={"ids": caffe2_pb2.TensorProto.INT64,
                    "lengths": caffe2_pb2.TensorProto.INT32})
    assert "y" not in shapes and "missing" not in shapes
    assert "out" not in shapes  # its length is decided by the data
    assert shapes["out_lengths"] == [2]


def test_get_operator_cost_is_flops_and_bytes_written():
    op = core.CreateOperator("Relu", ["X"], ["Y"])
    workspace.FeedBlob("X", np.zeros((2, 3), np.float32))
    assert workspace.GetOperatorCost(op.SerializeToString(), ["X"]) == (6, 24)
    with pytest.raises(BlobNotFoundError, match="Can't find blob: nope"):
        workspace.GetOperatorCost(op, ["nope"])


def test_get_blob_size_bytes():
    workspace.FeedBlob("f", np.zeros((2, 3), np.float64))
    assert workspace.GetBlobSizeBytes("f") == 48
    workspace.FeedBlob("s", np.array([b"ab", b"cde"]))
    assert workspace.GetBlobSizeBytes("s") == 2 * 32 + 5
    workspace.FeedBlob("plain", b"not a tensor")
    assert workspace.GetBlobSizeBytes("plain") == 0
    with pytest.raises(BlobNotFoundError):
        workspace.GetBlobSizeBytes("nope")


def test_run_plan_in_background():
    net = core.Net("bg")
    net.ConstantFill([], "filled", shape=[2], value=3.0)
    plan = core.Plan("bg_plan")
    plan.AddStep(core.ExecutionStep("bg_step", net))
    running = workspace.RunPlanInBackground(plan)
    assert running.wait(30) and running.is_done() and running.is_succeeded()
    assert workspace.FetchBlob("filled").tolist() == [3.0, 3.0]
    bad = core.Net("bg_bad")
    bad.Relu("nope", "y")
    failing = workspace.RunPlanInBackground(core.ExecutionStep("bad_step", bad))
    assert failing.wait(30) is False and failing.is_done()
    assert isinstance(failing.error, BlobNotFoundError)


def test_run_plan_of_a_step_carries_its_nets():
    net = core.Net("stepnet")
    net.ConstantFill([], "from_step", shape=[1], value=1.0)
    assert workspace.RunPlan(core.ExecutionStep("only_step", net, num_iter=2))
    assert workspace.FetchBlob("from_step").tolist() == [1.0]
    assert net.Name() in workspace.C.Workspace.current.nets


def test_immediate_mode_runs_ops_in_their_own_workspace():
    workspace.StartImmediate(i_know=True)
    assert workspace.IsImmediate()
    folder = workspace._immediate_root_folder
    assert os.path.isdir(folder)
    core.CreateOperator("ConstantFill", [], "imm", shape=[2], value=1.0)
    assert workspace.ImmediateBlobs() == ["imm"]
    assert not workspace.HasBlob("imm")
    assert workspace.FeedImmediate("imm", np.array([5.0]))
    assert workspace.FetchImmediate("imm").tolist() == [5.0]
    assert workspace.RunOperatorImmediate(core.CreateOperator("Relu", "imm", "imm2"))
    workspace.StopImmediate()
    assert not workspace.IsImmediate() and not os.path.exists(folder)
    assert workspace._immediate_root_folder == ""
    with pytest.raises(RuntimeError):
        workspace.FetchImmediate("imm")


def test_device_facts_of_a_cpu_runtime():
    assert not workspace.has_gpu_support and not workspace.has_cuda_support
    assert not workspace.has_hip_support and workspace.NumGpuDevices() == 0
    assert workspace.GpuDeviceType == caffe2_pb2.CUDA
    assert workspace.C.use_mkldnn is False


def test_c_blob_serialize_deserialize_and_tensor_view():
    ws = workspace.C.Workspace()
    ws.create_blob("t").feed(np.array([[1, 2], [3, 4]], np.int32))
    data = ws.blobs["t"].serialize("t")
    proto = caffe2_pb2.BlobProto.FromString(data)
    assert (proto.name, proto.type, list(proto.tensor.dims)) == ("t", "Tensor", [2, 2])
    copy = ws.create_blob("t2")
    copy.deserialize(data)
    np.testing.assert_array_equal(copy.fetch(), [[1, 2], [3, 4]])
    ws.create_blob("s").feed(b"bytes")
    ws.create_blob("s2").deserialize(ws.blobs["s"].serialize("s"))
    assert ws.blobs["s2"].fetch() == b"bytes"
    tensor = ws.blobs["t"].tensor()
    tensor.data[0, 0] = 9  # the tensor view writes into the blob
    assert ws.blobs["t"].fetch()[0, 0] == 9
    tensor.init([3], caffe2_pb2.TensorProto.FLOAT)
    assert ws.blobs["t"].fetch().tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(EnforceError, match="Cannot initialize a string tensor"):
        tensor.init([1], caffe2_pb2.TensorProto.STRING)
    with pytest.raises(BlobNotFoundError, match="nothing to serialize"):
        ws.create_blob("empty").serialize("empty")


def test_fetch_int8_blob():
    ws = workspace.C.Workspace.current
    ws._blobs["q"] = Int8Tensor(np.array([0, 128, 255], np.uint8), 0.5, 128)
    got = workspace.FetchInt8Blob("q")
    assert isinstance(got, Int8Tensor) and (got.scale, got.zero_point) == (0.5, 128)
    assert got.data.tolist() == [0, 128, 255]
    assert workspace.FetchInt8BlobRealVal("q").tolist() == [-64.0, 0.0, 63.5]
    workspace.FeedBlob("f", np.zeros(2, np.float32))
    with pytest.raises(BlobTypeError, match="Blob f is not an Int8TensorCPU"):
        workspace.FetchInt8Blob("f")


def test_nets_of_a_workspace_run_on_it():
    ws = workspace.C.Workspace()
    assert ws.nets == {} and ws.blobs == {}
    net = core.Net("handle")
    net.ConstantFill([], "c", shape=[1], value=2.0)
    created = ws.create_net(net)
    assert created.name == net.Name() and list(ws.nets) == [net.Name()]
    ws.nets[net.Name()].run()
    assert ws.blobs["c"].fetch().tolist() == [2.0]


def test_create_net_refuses_a_str_and_accepts_an_empty_name():
    ws = workspace.C.Workspace()
    with pytest.raises(TypeError):
        ws.create_net("not a net")
    with pytest.raises(ApiTypeError):
        workspace.RunOperatorOnce("not an op")
    unnamed = caffe2_pb2.NetDef(name="")
    unnamed.op.add().CopyFrom(core.CreateOperator("ConstantFill", [], "z", shape=[1]))
    ws.create_net(unnamed)  # Caffe2 checked only that the field is present
    assert "" in ws.nets
    with pytest.raises(NetError, match="Net definition should have a name."):
        ws.create_net(caffe2_pb2.NetDef())


def test_create_net_needs_existing_inputs_and_creates_outputs():
    net = core.Net("needs")
    net.Relu("x", "y")
    with pytest.raises(BlobNotFoundError, match="Encountered a non-existing input blob: x"):
        workspace.CreateNet(net)
    workspace.CreateNet(net, input_blobs=["x"])  # Caffe2 created the given inputs first
    assert workspace.HasBlob("y")
    ws = workspace.C.Workspace()
    with pytest.raises(BlobNotFoundError, match="Encountered a non-existing input blob: x"):
        ws.create_net(net)


def test_root_folder():
    assert workspace.RootFolder() == "."
    workspace.ResetWorkspace("/tmp/caffe2lite-root-test")
    assert workspace.RootFolder() == "/tmp/caffe2lite-root-test"
    workspace.ResetWorkspace()
    assert workspace.RootFolder() == "."


def test_predictor_runs_init_once_and_predicts_from_inputs():
    init = core.Net("pred_init")
    init.ConstantFill([], "w", shape=[2, 4], value=1.0)
    init.ConstantFill([], "b", shape=[2], value=0.5)
    predict = core.Net("pred")
    y = predict.FC(["data", "w", "b"], "y")
    predict.AddExternalOutput(y)
    workspace.FeedBlob("data", np.zeros((1, 4), np.float32))  # the parent's, not a param
    predictor = workspace.Predictor(workspace.StringifyProto(init.Proto()),
                                    workspace.StringifyProto(predict.Proto()))
    assert predictor.input_names == ["data"] and predictor.output_names == ["y"]
    (out,) = predictor.run([np.array([[1, 3, 256, 256]], np.float32)])
    np.testing.assert_allclose(out, [[516.5, 516.5]])
    (out,) = predictor.run({"data": np.ones((1, 4), np.float32)})
    np.testing.assert_allclose(out, [[4.5, 4.5]])
    assert not workspace.HasBlob("w")  # parameters stay in the predictor's workspace
    with pytest.raises(RuntimeError, match="wrong number of inputs"):
        predictor.run([])


def test_apply_transform():
    net = core.Net("to_transform")
    net.Conv(["X", "w", "b"], "y", kernel=1)
    net.Relu("y", "z")
    out = workspace.ApplyTransform("ConvToNNPack", net.Proto())
    assert [op.engine for op in out.op] == ["NNPACK", ""]
    assert net.Proto().op[0].engine == ""  # the given net is not changed
    with pytest.raises(RuntimeError, match="Transform definitely_not_a_real_transform not found"):
        workspace.ApplyTransform("definitely_not_a_real_transform", net.Proto())
    init = core.Net("to_transform_init")
    init.ConstantFill([], "X", shape=[1, 1, 2, 2], value=1.0)
    init.ConstantFill([], "w", shape=[1, 1, 1, 1], value=2.0)
    init.ConstantFill([], "b", shape=[1], value=0.0)
    chosen = workspace.ApplyTransformIfFaster("ConvToNNPack", net.Proto(), init.Proto(),
                                              warmup_runs=1, main_runs=2)
    assert [op.type for op in chosen.op] == ["Conv", "Relu"]
    ws = workspace.C.Workspace()
    ws.run(init)
    ws.run(out)  # the NNPACK engine falls back to the default Conv
    assert ws.blobs["z"].fetch().tolist() == [[[[2.0, 2.0], [2.0, 2.0]]]]


def test_get_net_name_of_a_str_a_net_and_a_netdef():
    net = core.Net("scoring")
    assert workspace.GetNetName("train") == "train"
    assert workspace.GetNetName(net) == net.Name()
    assert workspace.GetNetName(net.Proto()) == net.Name()
    with pytest.raises(BlobTypeError, match=r"^Not a Net object: 3 \(expected str, Net or "
                                            r"NetDef, found int\)$"):
        workspace.GetNetName(3)
