"""The rest of data_parallel_model around Parallelize (RunInitNet, RunNet and its
barrier, GetCheckpointParams, FinalizeAfterCheckpoint, GetLearningRateBlobNames,
AddBlobSync, Synchronize, ExtractPredictorNet, ConvertNetForDevice) in one process
with two CPU devices, and a Caffe2-style training script on 2 MPI ranks."""

from __future__ import annotations

import numpy as np
import pytest
from test_mpi_data_parallel import MODEL

from caffe2lite import core, data_parallel_model, workspace
from caffe2lite.distributed import mpi_launch
from caffe2lite.proto import caffe2_pb2


@pytest.fixture
def env():
    workspace.ResetWorkspace()
    names: dict = {}
    exec(MODEL, names)  # noqa: S102  (the model the ranks build too)
    yield names
    workspace.ResetWorkspace()


def feed(env):
    for d in (0, 1):
        workspace.FeedBlob(f"cpu_{d}/data", env["X"][6 * d:6 * d + 6])
        workspace.FeedBlob(f"cpu_{d}/label", env["Y"][6 * d:6 * d + 6])


def test_run_init_net_run_net_and_checkpoint_params(env):
    model = env["build"](None, devices=(0, 1))
    assert data_parallel_model.GetDevices(model) == [0, 1]
    assert data_parallel_model.IsGPU(model) is False
    feed(env)
    data_parallel_model.RunInitNet(model)
    start = workspace.FetchBlob("cpu_0/h_w").copy()
    np.testing.assert_array_equal(workspace.FetchBlob("cpu_1/h_w"), start)
    data_parallel_model.RunNet(model, 3)
    assert int(workspace.FetchBlob("optimizer_iteration")[0]) == 3
    assert not np.array_equal(workspace.FetchBlob("cpu_0/h_w"), start)
    made = {o for op in model.param_init_net.Proto().op for o in op.output}
    assert data_parallel_model.GetCheckpointParams(model) == (
        {b for b in made if b.startswith("cpu_0/")} | {"optimizer_iteration"})
    assert "cpu_0/h_w_momentum" in data_parallel_model.GetCheckpointParams(model)
    assert data_parallel_model.GetLearningRateBlobNames(model) == [
        model._optimizer.get_cpu_blob_name("lr")]


def test_finalize_after_checkpoint_copies_device_0(env):
    model = env["build"](None, devices=(0, 1))
    feed(env)
    data_parallel_model.RunInitNet(model)
    loaded = np.full((8, 4), 0.25, np.float32)  # as a checkpoint loaded on device 0
    workspace.FeedBlob("cpu_0/h_w", loaded)
    data_parallel_model.FinalizeAfterCheckpoint(model)
    np.testing.assert_array_equal(workspace.FetchBlob("cpu_1/h_w"), loaded)
    assert [op.type for op in model._checkpoint_net.Proto().op].count("Copy") == len(
        {str(o).split("/", 1)[1] for op in model.param_init_net.Proto().op
         for o in op.output if str(o).startswith("cpu_0/")})
    workspace.FeedBlob("cpu_0/h_w", loaded * 2)
    data_parallel_model.FinalizeAfterCheckpoint(model, blobs=["cpu_0/h_w"])  # net kept
    np.testing.assert_array_equal(workspace.FetchBlob("cpu_1/h_w"), loaded * 2)


def test_add_blob_sync_and_learning_rate_without_optimizer(env):
    model = env["build"](None, devices=(0, 1))
    with pytest.raises(Exception, match="Provide unprefixed blob name: cpu_0/x"):
        data_parallel_model.AddBlobSync(model, ["cpu_0/x"])
    data_parallel_model.AddBlobSync(model, ["stat"])
    copies = [(list(op.input), list(op.output)) for op in model.net.Proto().op
              if op.type == "Copy"]
    assert copies[-1] == (["cpu_0/stat"], ["cpu_1/stat"])
    model._optimizer = None
    lr_ops = [op.output[0] for op in model.net.Proto().op if op.type == "LearningRate"]
    assert data_parallel_model.GetLearningRateBlobNames(model) == lr_ops and lr_ops


def test_synchronize_warns_and_returns_on_one_shard(env):
    model = env["build"](None)
    with pytest.warns(DeprecationWarning, match="The Synchronize API has been deprecated"):
        data_parallel_model.Synchronize(model)


def test_extract_predictor_net_and_convert_net_for_device(env):
    model = env["build"](None)
    net, params = data_parallel_model.ExtractPredictorNet(model, ["data"], ["y"],
                                                          core.DeviceOption(caffe2_pb2.CPU))
    ops = net.Proto().op
    assert [op.type for op in ops] == ["FC", "Relu", "FC"]
    assert ops[0].input[0] == "data" and ops[-1].output[0] == "y"
    assert sorted(map(str, params)) == ["cpu_0/h_b", "cpu_0/h_w", "cpu_0/y_b", "cpu_0/y_w"]
    other = core.Net("other")
    other.Relu("a", "b")
    converted = data_parallel_model.ConvertNetForDevice(
        other, core.DeviceOption(caffe2_pb2.CPU, 1))
    op = converted.Proto().op[0]
    assert (list(op.input), list(op.output), op.device_option.device_id) == (
        ["cpu_1/a"], ["cpu_1/b"], 1)
    assert list(other.Proto().op[0].input) == ["a"]  # the original is unchanged


def test_run_net_needs_parallelize():
    from caffe2lite import model_helper

    with pytest.raises(Exception, match="the model was not built by Parallelize"):
        data_parallel_model.RunNet(model_helper.ModelHelper(name="plain"), 1)


def test_a_caffe2_style_script_on_two_ranks(tmp_path):
    why = mpi_launch.unavailable()
    if why is not None:
        print(f"skipped: {why}")
        pytest.skip(why)
    res = mpi_launch.run(2, mpi_launch.PRELUDE + MODEL + f'''
import warnings
workspace.RunOperatorOnce(core.CreateOperator(
    "FileStoreHandlerCreate", [], ["store_handler"], path={str(tmp_path)!r}))
rendezvous = dict(kv_handler="store_handler", shard_id=RANK, num_shards=SIZE,
                  engine="GLOO", transport="tcp", interface="", exit_nets=None)
''' + '''
model = build(rendezvous)
workspace.FeedBlob("cpu_0/data", X[6 * RANK:6 * RANK + 6])
workspace.FeedBlob("cpu_0/label", Y[6 * RANK:6 * RANK + 6])
data_parallel_model.RunInitNet(model)
data_parallel_model.RunNet(model, 4)
nets = [n.Proto().name for n in model._data_parallel_model_nets]
if RANK == 1:  # a checkpoint loaded on rank 0 only must win everywhere
    workspace.FeedBlob("cpu_0/h_w", np.zeros((8, 4), np.float32))
else:
    workspace.FeedBlob("cpu_0/h_w", np.full((8, 4), 0.5, np.float32))
data_parallel_model.FinalizeAfterCheckpoint(model)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    data_parallel_model.Synchronize(model, timeout_sec=20)
report(h_w=workspace.FetchBlob("cpu_0/h_w"), y_w=workspace.FetchBlob("cpu_0/y_w"),
       nets=nets, it=int(workspace.FetchBlob("optimizer_iteration")[0]),
       ckpt=sorted(map(str, data_parallel_model.GetCheckpointParams(model))))
''', timeout=90)
    assert res.returncode == 0, res.stderr
    ranks = res.by_rank()
    assert sorted(ranks) == [0, 1]
    for r in ranks.values():
        assert r["nets"] == ["pre_training_barrier_net", "mlp"]
        assert r["it"] == 4
        np.testing.assert_array_equal(r["h_w"], np.full((8, 4), 0.5, np.float32))
    np.testing.assert_array_equal(ranks[0]["y_w"], ranks[1]["y_w"])
    assert ranks[0]["ckpt"] == ranks[1]["ckpt"] and "optimizer_iteration" in ranks[0]["ckpt"]
