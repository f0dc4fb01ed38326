"""data_parallel_model.Parallelize on MPI: a small MLP trained on 2 ranks with half the
batch each ends with the same parameters as one process on the whole batch."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import data_parallel_model, model_helper, workspace
from caffe2lite.distributed import mpi_launch

MODEL = '''
import numpy as np
from caffe2lite import brew, data_parallel_model, model_helper, optimizer, workspace


def build(rendezvous, devices=(0,)):
    model = model_helper.ModelHelper(name="mlp")

    def inputs(m):
        pass

    def forward(m, loss_scale):
        h = brew.fc(m, "data", "h", dim_in=4, dim_out=8)
        h = brew.relu(m, h, h)
        y = brew.fc(m, h, "y", dim_in=8, dim_out=1)
        dist = m.net.SquaredL2Distance([y, "label"], "dist")
        loss = m.net.AveragedLoss(dist, "loss")
        return [m.net.Scale(loss, "loss_scaled", scale=loss_scale)]

    def opt(m):
        return optimizer.build_sgd(m, base_learning_rate=0.1, momentum=0.9)

    data_parallel_model.Parallelize(model, inputs, forward, optimizer_builder_fun=opt,
                                    devices=list(devices), rendezvous=rendezvous,
                                    cpu_device=True)
    return model


def train(model, x, y, init_params=None, iters=5):
    workspace.RunNetOnce(model.param_init_net)
    if init_params is not None:
        for name, value in init_params.items():
            workspace.FeedBlob(name, np.array(value, np.float32))
    start = {str(p): workspace.FetchBlob(p).copy() for p in model.params}
    workspace.FeedBlob("cpu_0/data", x)
    workspace.FeedBlob("cpu_0/label", y)
    workspace.CreateNet(model.net)
    for _ in range(iters):
        workspace.RunNet(model.net.Proto().name)
    return start, {str(p): workspace.FetchBlob(p) for p in model.params}


rng = np.random.default_rng(7)
X = rng.standard_normal((12, 4)).astype(np.float32)
Y = rng.standard_normal((12, 1)).astype(np.float32)
'''


def test_parallelize_without_rendezvous_builds_the_caffe2_net():
    exec_env: dict = {}
    exec(MODEL, exec_env)  # noqa: S102  (the same model source the ranks run)
    workspace.ResetWorkspace()
    model = exec_env["build"](None)
    types = [op.type for op in model.net.Proto().op]
    assert "Allreduce" not in types
    assert "Broadcast" not in [op.type for op in model.param_init_net.Proto().op]
    assert [str(p) for p in model.params] == ["cpu_0/h_w", "cpu_0/h_b", "cpu_0/y_w", "cpu_0/y_b"]
    scale = next(op for op in model.net.Proto().op if op.type == "Scale")
    assert [a.f for a in scale.arg if a.name == "scale"] == [1.0]
    # the loss gradient is a ConstantFill of 1.0 on the scaled loss, before the backward ops
    fill = next(op for op in model.net.Proto().op if op.type == "ConstantFill")
    assert list(fill.input) == ["cpu_0/loss_scaled"] and list(fill.output) == ["cpu_0/loss_scaled_grad"]
    start, end = exec_env["train"](model, exec_env["X"], exec_env["Y"])
    assert not np.allclose(start["cpu_0/h_w"], end["cpu_0/h_w"])
    workspace.ResetWorkspace()


def test_two_cpu_devices_of_one_process_sum_their_gradients():
    env: dict = {}
    exec(MODEL, env)  # noqa: S102
    workspace.ResetWorkspace()
    one = env["build"](None)
    start, end1 = env["train"](one, env["X"], env["Y"])
    workspace.ResetWorkspace()
    two = env["build"](None, devices=(0, 1))
    types = [op.type for op in two.net.Proto().op]
    assert "Sum" in types and "Allreduce" not in types
    workspace.RunNetOnce(two.param_init_net)
    for name, value in start.items():  # device 1 starts as a copy of device 0 (init net)
        workspace.FeedBlob(name, value)
    workspace.RunNetOnce(two.param_init_net.Clone("copies", op_id_mask=[
        i for i, op in enumerate(two.param_init_net.Proto().op) if op.type == "Copy"]))
    for d in (0, 1):
        workspace.FeedBlob(f"cpu_{d}/data", env["X"][6 * d:6 * d + 6])
        workspace.FeedBlob(f"cpu_{d}/label", env["Y"][6 * d:6 * d + 6])
    workspace.CreateNet(two.net)
    for _ in range(5):
        workspace.RunNet(two.net.Proto().name)
    for name, value in end1.items():
        np.testing.assert_allclose(workspace.FetchBlob(name), value, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(workspace.FetchBlob(name.replace("cpu_0", "cpu_1")),
                                      workspace.FetchBlob(name))
    workspace.ResetWorkspace()


def test_parallelize_refuses_gpu_features():
    with pytest.raises(Exception, match="cpu_device=True"):
        data_parallel_model.Parallelize(model_helper.ModelHelper(), lambda m: None,
                                        lambda m, s: [], devices=[0])


def test_strip_names():
    assert data_parallel_model.stripBlobName("cpu_0/fc_w") == "fc_w"
    assert data_parallel_model.stripParamName("gpu_3/a/b") == "a/b"
    assert data_parallel_model.stripBlobName("fc_w") == "fc_w"


@pytest.mark.parametrize("n", [2, 3])
def test_ranks_with_a_share_of_the_batch_equal_one_process_on_the_whole_batch(n, tmp_path):
    why = mpi_launch.unavailable()
    if why is not None:
        print(f"skipped: {why}")
        pytest.skip(why)
    res = mpi_launch.run(n, mpi_launch.PRELUDE + MODEL + f'''
workspace.RunOperatorOnce(core.CreateOperator(
    "FileStoreHandlerCreate", [], ["store_handler"], path={str(tmp_path)!r}))
rendezvous = dict(kv_handler="store_handler", shard_id=RANK, num_shards=SIZE,
                  engine="GLOO", transport="tcp", interface="")
''' + '''
model = build(rendezvous)
ops = [op.type for op in model.net.Proto().op]
init_ops = [op.type for op in model.param_init_net.Proto().op]
share = 12 // SIZE
half = slice(share * RANK, share * RANK + share)
start, end = train(model, X[half], Y[half])
report(start=start, end=end, ops=ops, init_ops=init_ops)
if RANK == 0:
    workspace.ResetWorkspace()
    single = build(None)
    _, end1 = train(single, X, Y, init_params=start)
    report(single=end1)
''', timeout=60)
    assert res.returncode == 0, res.stderr
    ranks = {r["rank"]: r for r in res.results if "end" in r}
    single = next(r["single"] for r in res.results if "single" in r)
    assert ranks[0]["ops"].count("Allreduce") == 4
    # gradients are allreduced before the update ops
    ops = ranks[0]["ops"]
    assert max(i for i, t in enumerate(ops) if t == "Allreduce") < ops.index("MomentumSGDUpdate")
    init_ops = ranks[0]["init_ops"]
    assert init_ops.count("Broadcast") == 4 and init_ops.count("CreateCommonWorld") == 1
    assert sorted(ranks) == list(range(n))
    for name in single:
        for r in range(1, n):
            np.testing.assert_array_equal(ranks[0]["start"][name], ranks[r]["start"][name])
            np.testing.assert_array_equal(ranks[0]["end"][name], ranks[r]["end"][name])
        np.testing.assert_allclose(ranks[0]["end"][name], single[name], rtol=1e-5, atol=1e-6)
