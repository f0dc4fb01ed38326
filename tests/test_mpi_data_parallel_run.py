"""The rest of data_parallel_model around Parallelize (RunInitNet, RunNet and its
barrier, GetCheckpointParams, FinalizeAfterCheckpoint, GetLearningRateBlobNames,
AddBlobSync, Synchronize, ExtractPredictorNet, ConvertNetForDevice) in one process
with two CPU devices, and a Caffe2-style training script on 2 MPI ranks."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.rendezvous import file_store_rendezvous, skip_without_mpi
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
    skip_without_mpi()
    res = mpi_launch.run(2, mpi_launch.PRELUDE + MODEL + file_store_rendezvous(tmp_path) + '''
import warnings
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


BN_MODEL = '''
import numpy as np
from caffe2lite import brew, data_parallel_model, model_helper, optimizer, workspace


def build_bn(devices, **kwargs):
    model = model_helper.ModelHelper(name="bn_mlp")

    def forward(m, loss_scale):
        h = brew.spatial_bn(m, "data", "bn", 3, epsilon=1e-5, momentum=0.9, is_test=False)
        h = brew.fc(m, h, "y", dim_in=3 * 2 * 2, dim_out=1)
        dist = m.net.SquaredL2Distance([h, "label"], "dist")
        loss = m.net.AveragedLoss(dist, "loss")
        return [m.net.Scale(loss, "loss_scaled", scale=loss_scale)]

    data_parallel_model.Parallelize(
        model, lambda m: None, forward, devices=list(devices), cpu_device=True,
        optimizer_builder_fun=lambda m: optimizer.build_sgd(m, base_learning_rate=0.1),
        **kwargs)
    return model
'''


def bn_train(model, devices, x, y, iters=4):
    share = len(x) // len(devices)
    for i, d in enumerate(devices):
        workspace.FeedBlob(f"cpu_{d}/data", x[share * i:share * (i + 1)])
        workspace.FeedBlob(f"cpu_{d}/label", y[share * i:share * (i + 1)])
    data_parallel_model.RunInitNet(model)
    return model


@pytest.fixture
def bn():
    workspace.ResetWorkspace()
    names: dict = {}
    exec(BN_MODEL, names)  # noqa: S102
    rng = np.random.default_rng(3)
    names["X"] = rng.standard_normal((8, 3, 2, 2)).astype(np.float32)
    names["Y"] = rng.standard_normal((8, 1)).astype(np.float32)
    yield names
    workspace.ResetWorkspace()


def _train(bn, devices, iters=4, **kwargs):
    model = bn["build_bn"](devices, **kwargs)
    bn_train(model, devices, bn["X"], bn["Y"])
    start = {str(p): workspace.FetchBlob(p).copy() for p in model.GetParams("cpu_0/")}
    return model, start


def test_combine_spatial_bn_normalises_over_every_device(bn):
    single, start = _train(bn, [0])
    data_parallel_model.RunNet(single, 4)
    want = {name: workspace.FetchBlob(name) for name in start}
    workspace.ResetWorkspace()
    two = bn["build_bn"]([0, 1], combine_spatial_bn=True)
    ops = [op.type for op in two.net.Proto().op]
    assert ops.count("ChannelStats") == 2 and ops.count("ChannelBackpropStats") == 2
    assert ops.index("ChannelStats") < ops.index("SpatialBN")
    bn_op = next(op for op in two.net.Proto().op if op.type == "SpatialBN")
    assert list(bn_op.input[5:]) == ["cpu_0/data_sums_combined", "cpu_0/data_sumsq_combined"]
    assert [a.i for a in bn_op.arg if a.name == "num_batches"] == [2]
    bn_train(two, [0, 1], bn["X"], bn["Y"])
    for name, value in start.items():  # the same start as the single device
        workspace.FeedBlob(name, value)
        workspace.FeedBlob(name.replace("cpu_0", "cpu_1"), value)
    data_parallel_model.RunNet(two, 4)
    for name, value in want.items():
        np.testing.assert_allclose(workspace.FetchBlob(name), value, rtol=1e-4, atol=1e-5)


def test_without_combining_each_device_normalises_its_own_half(bn):
    single, start = _train(bn, [0])
    data_parallel_model.RunNet(single, 4)
    want = workspace.FetchBlob("cpu_0/y_w")
    workspace.ResetWorkspace()
    two = bn["build_bn"]([0, 1])
    bn_train(two, [0, 1], bn["X"], bn["Y"])
    for name, value in start.items():
        workspace.FeedBlob(name, value)
        workspace.FeedBlob(name.replace("cpu_0", "cpu_1"), value)
    data_parallel_model.RunNet(two, 4)
    assert not np.allclose(workspace.FetchBlob("cpu_0/y_w"), want, rtol=1e-4, atol=1e-5)


def test_shared_model_keeps_one_copy_of_the_parameters(bn):
    two = bn["build_bn"]([0, 1], shared_model=True)
    assert sorted(map(str, two.params)) == ["cpu_0/bn_b", "cpu_0/bn_s", "cpu_0/y_b",
                                            "cpu_0/y_w"]
    made = {o for op in two.param_init_net.Proto().op for o in op.output}
    assert "cpu_1/y_w" not in made and "cpu_0/y_w" in made
    reads = {i for op in two.net.Proto().op for i in op.input}
    assert "cpu_1/y_w" not in reads and "cpu_1/bn_s" not in reads
    fc1 = [op for op in two.net.Proto().op if op.type == "FC"][1]
    assert list(fc1.input)[1:] == ["cpu_0/y_w", "cpu_0/y_b"]
    updates = [op for op in two.net.Proto().op if op.type == "WeightedSum"]
    assert all(str(op.output[0]).startswith("cpu_0/") for op in updates)
    bn_train(two, [0, 1], bn["X"], bn["Y"])
    data_parallel_model.RunNet(two, 2)
    assert np.isfinite(workspace.FetchBlob("cpu_0/y_w")).all()


def test_a_resnet50_trainer_style_cpu_run_on_two_ranks(tmp_path):
    # Caffe2's resnet50_trainer with --use_cpu: shared_model and combine_spatial_bn on,
    # one device per rank
    skip_without_mpi()
    res = mpi_launch.run(2, mpi_launch.PRELUDE + BN_MODEL + file_store_rendezvous(tmp_path) + '''
rng = np.random.default_rng(10 + RANK)
model = build_bn([0], rendezvous=rendezvous, shared_model=True, combine_spatial_bn=True)
workspace.FeedBlob("cpu_0/data", rng.standard_normal((4, 3, 2, 2)).astype(np.float32))
workspace.FeedBlob("cpu_0/label", rng.standard_normal((4, 1)).astype(np.float32))
data_parallel_model.RunInitNet(model)
start = workspace.FetchBlob("cpu_0/y_w").copy()
data_parallel_model.RunNet(model, 3)
report(start=start, end=workspace.FetchBlob("cpu_0/y_w"),
       ckpt=sorted(map(str, data_parallel_model.GetCheckpointParams(model))))
''', timeout=90)
    assert res.returncode == 0, res.stderr
    ranks = res.by_rank()
    np.testing.assert_array_equal(ranks[0]["start"], ranks[1]["start"])  # broadcast
    np.testing.assert_array_equal(ranks[0]["end"], ranks[1]["end"])  # summed gradients
    assert not np.array_equal(ranks[0]["start"], ranks[0]["end"])
    assert "cpu_0/y_w" in ranks[0]["ckpt"] and "cpu_0/bn_rm" in ranks[0]["ckpt"]


TRAINER = '''
import numpy as np
from caffe2lite import brew, core, data_parallel_model, dyndep, experiment_util, \\
    model_helper, optimizer, timeout_guard, workspace
from caffe2lite.models import resnet

dyndep.InitOpsLibrary("@/caffe2/caffe2/distributed:file_store_handler_ops")
dyndep.InitOpsLibrary("@/caffe2/caffe2/distributed:redis_store_handler_ops")
batch, labels = 2, 4


def add_input(model):
    rng = np.random.default_rng(100 + RANK)
    workspace.FeedBlob("cpu_0/data", rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    workspace.FeedBlob("cpu_0/label", rng.integers(0, labels, batch).astype(np.int32))


def forward(model, loss_scale):
    softmax, loss = resnet.create_resnet50(model, "data", 3, labels, label="label",
                                           no_bias=True, final_avg_kernel=1)
    loss = model.Scale(loss, scale=loss_scale)
    brew.accuracy(model, [softmax, "label"], "accuracy")
    return [loss]


def add_optimizer(model):
    optimizer.add_weight_decay(model, 1e-4)
    return optimizer.build_sgd(model, 0.1, policy="step", stepsize=1, gamma=0.999,
                               momentum=0.9, nesterov=1)
'''


def test_a_resnet50_trainer_style_script_on_two_ranks(tmp_path):
    skip_without_mpi()
    res = mpi_launch.run(2, mpi_launch.PRELUDE + TRAINER + f'''
import os
os.chdir({str(tmp_path)!r})
''' + file_store_rendezvous(tmp_path) + '''
model = model_helper.ModelHelper(name="resnet50", arg_scope={"order": "NCHW"})
data_parallel_model.Parallelize(
    model, input_builder_fun=add_input, forward_pass_builder_fun=forward,
    optimizer_builder_fun=add_optimizer, devices=[0], rendezvous=rendezvous,
    optimize_gradient_memory=False, cpu_device=True, shared_model=True,
    combine_spatial_bn=True)
data_parallel_model.RunInitNet(model)
log = experiment_util.ModelTrainerLog(f"resnet50_rank{RANK}", {"batch": batch})
for step in range(2):
    with timeout_guard.CompleteInTimeOrDie(120):
        workspace.RunNet(model.net.Proto().name)
    log.log((step + 1) * batch * SIZE, step + 1,
            {"loss": float(workspace.FetchBlob("cpu_0/loss")),
             "accuracy": float(workspace.FetchBlob("cpu_0/accuracy"))})
lr = data_parallel_model.GetLearningRateBlobNames(model)[0]
report(w=workspace.FetchBlob("cpu_0/comp_15_conv_3_w"), lr=float(workspace.FetchBlob(lr)),
       loss=float(workspace.FetchBlob("cpu_0/loss")),
       log=open(log.filename).read().splitlines())
''', timeout=240)
    assert res.returncode == 0, res.stderr
    ranks = res.by_rank()
    np.testing.assert_array_equal(ranks[0]["w"], ranks[1]["w"])
    # with momentum Caffe2's SGD keeps the rate positive: 0.1 * 0.999^2 after 2 steps
    assert ranks[0]["lr"] == ranks[1]["lr"] == pytest.approx(0.1 * 0.999 ** 2, rel=1e-6)
    assert np.isfinite(ranks[0]["loss"]) and ranks[0]["loss"] != ranks[1]["loss"]
    assert len(ranks[0]["log"]) == 4 and ranks[0]["log"][1].endswith(",accuracy,loss")


def test_save_and_load_as_resnet50_trainer_does(tmp_path, bn):
    # resnet50_trainer's SaveModel / LoadModel: a predictor export of the training net
    # with GetCheckpointParams, loaded back with RunAllOnGPU nets (which run on CPU here)
    from caffe2lite.predictor import predictor_exporter as pred_exp
    from caffe2lite.predictor import predictor_py_utils as pred_utils
    from caffe2lite.predictor_constants import predictor_constants

    model, _ = _train(bn, [0], shared_model=True, combine_spatial_bn=True)
    data_parallel_model.RunNet(model, 2)
    meta = pred_exp.PredictorExportMeta(
        predict_net=model.net.Proto(),
        parameters=data_parallel_model.GetCheckpointParams(model),
        inputs=["cpu_0/data"], outputs=["cpu_0/y"],
        shapes={"cpu_0/y": (1, 1), "cpu_0/data": (3, 2, 2)})
    path = str(tmp_path / "bn_mlp_1.mdl")
    pred_exp.save_to_db(db_type="minidb", db_destination=path, predictor_export_meta=meta)
    saved = {name: workspace.FetchBlob(name) for name in
             ("cpu_0/y_w", "cpu_0/bn_s", "cpu_0/bn_rm", "optimizer_iteration")}
    workspace.ResetWorkspace()
    meta_net_def = pred_exp.load_from_db(path, "minidb")
    init_net = core.Net(pred_utils.GetNet(meta_net_def, predictor_constants.GLOBAL_INIT_NET_TYPE))
    predict_init_net = core.Net(pred_utils.GetNet(meta_net_def,
                                                  predictor_constants.PREDICT_INIT_NET_TYPE))
    predict_init_net.RunAllOnGPU()
    init_net.RunAllOnGPU()
    assert init_net.Proto().device_option.device_type == caffe2_pb2.CUDA
    assert workspace.RunNetOnce(predict_init_net)
    assert workspace.RunNetOnce(init_net)
    for name, value in saved.items():
        np.testing.assert_array_equal(workspace.FetchBlob(name), value)
    assert int(saved["optimizer_iteration"][0]) == 2
