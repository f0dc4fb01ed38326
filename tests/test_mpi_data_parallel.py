"""data_parallel_model.Parallelize on MPI: a small MLP, and the click-through-rate
example (sparse embedding gradients), trained on 2 and 3 ranks with a share of the
batch each end with the same parameters as one process on the whole batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from c2l_test_support.rendezvous import file_store_rendezvous, skip_without_mpi

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
    skip_without_mpi()
    res = mpi_launch.run(n, mpi_launch.PRELUDE + MODEL + file_store_rendezvous(tmp_path) + '''
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


# -- the click-through-rate example (examples/ctr_model), data-parallel --------------
REPO = str(Path(__file__).resolve().parent.parent)
CTR = f"REPO = {REPO!r}\n" + '''
import sys
import numpy as np
sys.path.insert(0, REPO)
from examples.ctr_model import _model as ctr
from caffe2lite import core, data_parallel_model, model_helper, optimizer, workspace

CFG = ctr.Config(batch=240, dropout=0.0)  # no dropout: one process's random draws
STEPS = 3                                 # cannot be split across ranks


def batches(cfg=CFG, steps=STEPS):
    """The example's synthetic training batches (its init and data nets, in a
    workspace of their own): [{blob: array}] per step."""
    previous = workspace.CurrentWorkspace()
    workspace.SwitchWorkspace("ctr_data", True)
    try:
        workspace.ResetWorkspace()
        workspace.RunNetOnce(ctr.build_init(cfg))
        data = ctr.build_data(cfg, "ctr_data_train", cfg.seed + 1000)
        workspace.CreateNet(data)
        names = [f"{k}_{f}" for f in range(cfg.features) for k in ("ids", "lengths")]
        out = []
        for _ in range(steps):
            workspace.RunNet(data.Proto().name)
            out.append({n: workspace.FetchBlob(n) for n in names + ["dense", "label"]})
        return out
    finally:
        workspace.SwitchWorkspace(previous)


def share(batch, rank, size, cfg=CFG):
    """Rank ``rank``'s contiguous share of the examples of one batch."""
    per = cfg.batch // size
    lo, hi = per * rank, per * rank + per
    mine = {"dense": batch["dense"][lo:hi], "label": batch["label"][lo:hi]}
    for f in range(cfg.features):
        lengths = batch[f"lengths_{f}"]
        ends = np.concatenate([[0], np.cumsum(lengths)])
        mine[f"lengths_{f}"] = lengths[lo:hi]
        mine[f"ids_{f}"] = batch[f"ids_{f}"][ends[lo]:ends[hi]]
    return mine


def build_parallel(rendezvous, cfg=CFG):
    """The example's model (its _forward: embedding bags, FC, Relu, FC, sigmoid
    cross-entropy) under data_parallel_model, with the example's SGD."""
    model = model_helper.ModelHelper(name="ctr_parallel")

    forward = ctr.parallel_forward(cfg)

    def sgd(m):
        return optimizer.build_sgd(m, base_learning_rate=cfg.base_lr, policy="step",
                                   stepsize=cfg.lr_stepsize, gamma=cfg.lr_gamma)

    data_parallel_model.Parallelize(model, lambda m: None, forward, optimizer_builder_fun=sgd,
                                    devices=[0], rendezvous=rendezvous, cpu_device=True)
    return model


def train_parallel(model, batches_, rank, size):
    workspace.RunNetOnce(model.param_init_net)
    start = {str(p): workspace.FetchBlob(p) for p in model.params}
    first = True
    for batch in batches_:
        for name, value in share(batch, rank, size).items():
            workspace.FeedBlob("cpu_0/" + name, value)
        if first:
            workspace.CreateNet(model.net)
            first = False
        workspace.RunNet(model.net.Proto().name)
    return start, {str(p): workspace.FetchBlob(p) for p in model.params}


def train_example(start, batches_, cfg=CFG):
    """The example's own train net (sparse ScatterWeightedSum updates) in one process
    on the whole batches, from the given parameters."""
    nets = ctr.build_all(cfg)
    workspace.RunNetOnce(nets["init"])
    for name, value in start.items():
        workspace.FeedBlob(name.split("/", 1)[1], value)
    for i, batch in enumerate(batches_):
        for name, value in batch.items():
            workspace.FeedBlob(name, value)
        if i == 0:
            workspace.CreateNet(nets["train"])
        workspace.RunNet(nets["train"].Proto().name)
    return {name: workspace.FetchBlob(name.split("/", 1)[1]) for name in start}
'''


def _ctr_env() -> dict:
    env: dict = {}
    exec(CTR, env)  # noqa: S102  (the same source the ranks run)
    return env


def test_ctr_parallelized_on_one_process_equals_the_example_train_net():
    env = _ctr_env()
    workspace.ResetWorkspace()
    batches = env["batches"]()
    model = env["build_parallel"](None)
    start, end = env["train_parallel"](model, batches, 0, 1)
    workspace.ResetWorkspace()
    single = env["train_example"](start, batches)
    for name, value in single.items():
        assert not np.array_equal(start[name], value), name  # it trained
        np.testing.assert_allclose(end[name], value, rtol=1e-6, atol=1e-7)
    workspace.ResetWorkspace()


def test_ctr_sparse_gradients_become_dense_before_the_allreduce():
    env = _ctr_env()
    workspace.ResetWorkspace()
    model = env["build_parallel"]({"shard_id": 0, "num_shards": 2, "engine": "GLOO"})
    ops = list(model.net.Proto().op)
    types = [op.type for op in ops]
    zeros = [op for op in ops if op.type == "ConstantFill" and op.input[:1] != [
        "cpu_0/loss_scaled"]]
    assert [(list(op.input), list(op.output)) for op in zeros] == [
        ([f"cpu_0/emb_{f}"], [f"cpu_0/emb_{f}_grad_dense"]) for f in range(3)]
    scatter = [op for op in ops if op.type == "ScatterWeightedSum"]
    one = "cpu_0/sparse_grad_one"
    assert [(op.input[0], op.input[1], op.input[4]) for op in scatter] == [
        (f"cpu_0/emb_{f}_grad_dense", one, one) for f in range(3)]
    slices = model.param_to_grad  # now dense; the slices are the backward ops' outputs
    backward = {o for op in ops if op.type == "SparseLengthsIndicesInGradientSumGradient"
                for o in op.output}
    assert all(op.input[3] in backward for op in scatter)  # the values of the slice
    assert [str(slices[p]) for p in model.params][:3] == [
        f"cpu_0/emb_{f}_grad_dense" for f in range(3)]
    assert all(list(op.output) == [op.input[0]] for op in scatter)  # in place
    reduced = [op.input[1] for op in ops if op.type == "Allreduce"]
    assert sorted(reduced) == sorted([f"cpu_0/emb_{f}_grad_dense" for f in range(3)] + [
        f"cpu_0/{p}_grad" for p in ("fc1_w", "fc1_b", "fc2_w", "fc2_b")])
    last_scatter = max(i for i, t in enumerate(types) if t == "ScatterWeightedSum")
    assert last_scatter < types.index("Allreduce")
    assert types.count("ScatterWeightedSum") == 3 and types.count("WeightedSum") == 7
    init = [op for op in model.param_init_net.Proto().op if op.type == "ConstantFill"
            and list(op.output) == ["cpu_0/sparse_grad_one"]]
    assert len(init) == 1
    workspace.ResetWorkspace()


def test_sparse_gradients_on_several_devices_of_one_host_are_refused_as_in_caffe2():
    env = _ctr_env()
    workspace.ResetWorkspace()
    original = env["data_parallel_model"].Parallelize

    def two_devices(*args, **kwargs):
        kwargs["devices"] = [0, 1]
        return original(*args, **kwargs)

    env["data_parallel_model"].Parallelize = two_devices
    try:
        with pytest.raises(Exception, match="Synchronizing gradient slices not supported"):
            env["build_parallel"](None)
    finally:
        env["data_parallel_model"].Parallelize = original
    workspace.ResetWorkspace()


@pytest.mark.parametrize("n", [2, 3])
def test_ctr_ranks_with_a_share_of_the_batch_equal_one_process_on_the_whole_batch(n, tmp_path):
    """The issue's acceptance, on the CTR example: n ranks, 240 / n examples each, end
    with the parameters of the example's own train net on the whole batches."""
    skip_without_mpi()
    res = mpi_launch.run(n, mpi_launch.PRELUDE + CTR + file_store_rendezvous(tmp_path) + '''
data = batches()
model = build_parallel(rendezvous)
start, end = train_parallel(model, data, RANK, SIZE)
report(start=start, end=end, ops=[op.type for op in model.net.Proto().op])
if RANK == 0:
    workspace.ResetWorkspace()
    report(single=train_example(start, data))
''', timeout=120)
    assert res.returncode == 0, res.stderr
    ranks = {r["rank"]: r for r in res.results if "end" in r}
    single = next(r["single"] for r in res.results if "single" in r)
    assert sorted(ranks) == list(range(n))
    assert ranks[0]["ops"].count("Allreduce") == 7
    for name in single:
        for r in range(1, n):
            np.testing.assert_array_equal(ranks[0]["start"][name], ranks[r]["start"][name])
            np.testing.assert_array_equal(ranks[0]["end"][name], ranks[r]["end"][name])
        assert not np.array_equal(ranks[0]["start"][name], single[name]), name
        np.testing.assert_allclose(ranks[0]["end"][name], single[name], rtol=1e-5, atol=1e-6)


def test_training_benchmark_runs_on_one_and_two_ranks():
    why = mpi_launch.unavailable()
    if why is not None:
        pytest.skip(why)
    from bench import mpi_training
    from bench.common import TINY

    rows = mpi_training.rows(TINY)
    assert [r.case for r in rows] == ["CTR training 1 rank", "CTR training 2 ranks vs 1"]
    assert all(r.value is not None and r.value > 0 for r in rows)
    assert rows[1].ratio == pytest.approx(rows[1].yardstick_value / rows[1].value)
