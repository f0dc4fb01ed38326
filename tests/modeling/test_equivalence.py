"""A model built with ModelHelper + brew + optimizer trains to the same parameters
as the same model built op by op with core.Net: a small MLP (SGD with momentum, and
Adam) and the click-through-rate example of examples/ctr_model (sparse SGD)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from caffe2lite import brew, core, model_helper, optimizer, workspace
from caffe2lite.proto import caffe2_pb2

CTR = Path(__file__).resolve().parents[2] / "examples" / "ctr_model"
SEED = 7


# -- a small MLP ------------------------------------------------------------------


def _batches(steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    true_w = rng.standard_normal((4, 1)).astype(np.float32)
    for _ in range(steps):
        x = rng.standard_normal((8, 4)).astype(np.float32)
        yield x, np.tanh(x @ true_w).astype(np.float32)


def _seeded(net: core.Net) -> None:
    net.Proto().device_option.random_seed = SEED


def mlp_with_brew(opt: str):
    model = model_helper.ModelHelper(name="mlp_brew")
    h = brew.fc(model, "x", "fc1", dim_in=4, dim_out=6)
    h = brew.relu(model, h, "fc1_relu")
    out = brew.fc(model, h, "fc2", dim_in=6, dim_out=1)
    sq = model.SquaredL2Distance([out, "y"], "sq")
    loss = model.AveragedLoss(sq, "loss")
    model.AddGradientOperators([loss])
    if opt == "momentum":
        optimizer.build_sgd(model, base_learning_rate=0.05, momentum=0.9)
    else:
        optimizer.build_adam(model, base_learning_rate=0.01)
    _seeded(model.param_init_net)
    return model.param_init_net, model.net


def mlp_by_hand(opt: str):
    init, net = core.Net("mlp_init_hand"), core.Net("mlp_hand")
    for name, shape in (("fc1", [6, 4]), ("fc2", [1, 6])):
        init.XavierFill([], name + "_w", shape=shape)
        init.ConstantFill([], name + "_b", shape=shape[:1])
    init.ConstantFill([], "it", shape=[1], value=0, dtype=core.DataType.INT64)
    h = net.FC(["x", "fc1_w", "fc1_b"], "fc1")
    h = net.Relu(h, "fc1_relu")
    out = net.FC([h, "fc2_w", "fc2_b"], "fc2")
    loss = net.AveragedLoss(net.SquaredL2Distance([out, "y"], "sq"), "loss")
    grads = net.AddGradientOperators([loss])
    net.Iter(["it"], ["it"])
    params = ["fc1_w", "fc1_b", "fc2_w", "fc2_b"]
    if opt == "momentum":
        lr = net.LearningRate(["it"], "lr", base_lr=0.05, policy="fixed")
        for p in params:
            init.ConstantFill([p], p + "_m", value=0.0)
            net.MomentumSGDUpdate([grads[p], p + "_m", lr, p], [grads[p], p + "_m", p],
                                  momentum=0.9, nesterov=1)
    else:
        lr = net.LearningRate(["it"], "lr", base_lr=-0.01, policy="fixed")
        for p in params:
            init.ConstantFill([p], p + "_m1", value=0.0)
            init.ConstantFill([p], p + "_m2", value=0.0)
            net.Adam([p, p + "_m1", p + "_m2", grads[p], lr, "it"],
                     [p, p + "_m1", p + "_m2"], beta1=0.9, beta2=0.999, epsilon=1e-8)
    _seeded(init)
    return init, net


def _train_mlp(init, net, steps=40):
    workspace.ResetWorkspace()
    first = next(_batches(1))
    workspace.FeedBlob("x", first[0])
    workspace.FeedBlob("y", first[1])
    workspace.RunNetOnce(init)
    workspace.CreateNet(net, True)
    losses = []
    for x, y in _batches(steps):
        workspace.FeedBlob("x", x)
        workspace.FeedBlob("y", y)
        workspace.RunNet(net.Name())
        losses.append(float(workspace.FetchBlob("loss")))
    return {p: workspace.FetchBlob(p) for p in ("fc1_w", "fc1_b", "fc2_w", "fc2_b")}, losses


@pytest.mark.parametrize("opt", ["momentum", "adam"])
def test_mlp_same_parameters(opt):
    got, losses = _train_mlp(*mlp_with_brew(opt))
    want, want_losses = _train_mlp(*mlp_by_hand(opt))
    assert losses[-1] < losses[0]
    assert losses == want_losses
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


# -- the click-through-rate example -----------------------------------------------


def _ctr_model_module():
    if str(CTR) not in sys.path:
        sys.path.insert(0, str(CTR))
    spec = importlib.util.spec_from_file_location("ctr_example_model", CTR / "_model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def ctr_with_brew(m, cfg):
    """examples/ctr_model's train net, with ModelHelper, brew and build_sgd."""
    model = model_helper.ModelHelper(name="ctr_brew")
    s = cfg.seed
    bags = []
    for f in range(cfg.features):
        emb = model.create_param(
            f"emb_{f}", [cfg.vocab, cfg.embed_dim],
            m_initializer("UniformFill", min=-0.05, max=0.05, random_seed=s + f))
        ids, lengths = model.net.SparseDropoutWithReplacement(
            [f"ids_{f}", f"lengths_{f}"], [f"ids_kept_{f}", f"lengths_kept_{f}"],
            ratio=cfg.dropout, replacement_value=0, random_seed=s + 500 + f)
        bags.append(model.net.SparseLengthsSum([emb, ids, lengths], f"bag_{f}"))
    cat = brew.concat(model, bags + ["dense"], "cat", axis=1)
    width = m._dense_inputs(cfg)
    h = brew.fc(model, cat, "fc1", width, cfg.hidden,
                weight_init=("GaussianFill", {"std": (2.0 / width) ** 0.5,
                                              "random_seed": s + 10}),
                bias_init=("ConstantFill", {"value": 0.0}))
    h = brew.relu(model, h, "fc1_relu")
    logit = brew.fc(model, h, "fc2", cfg.hidden, 1,
                    weight_init=("GaussianFill", {"std": (1.0 / cfg.hidden) ** 0.5,
                                                  "random_seed": s + 11}),
                    bias_init=("ConstantFill", {"value": 0.0}))
    xent = model.net.SigmoidCrossEntropyWithLogits([logit, "label"], "xent")
    loss = model.AveragedLoss(xent, "loss")
    model.AddGradientOperators([loss])
    optimizer.build_sgd(model, base_learning_rate=cfg.base_lr, policy="step",
                        stepsize=cfg.lr_stepsize, gamma=cfg.lr_gamma)
    return model


def m_initializer(op, **kwargs):
    from caffe2lite.modeling.initializers import Initializer
    return Initializer(op, **kwargs)


def _teacher_init(init: core.Net) -> core.Net:
    """The example's init net without the model's parameters (teacher only)."""
    keep = [i for i, op in enumerate(init.Proto().op) if op.output[0].startswith("teacher")]
    return init.Clone("teacher_init", op_id_mask=keep)


def _run_ctr(init_nets, data, train, steps):
    workspace.ResetWorkspace()
    for net in init_nets:
        workspace.RunNetOnce(net)
    workspace.CreateNet(data, True)
    workspace.CreateNet(train, True)
    losses = []
    for _ in range(steps):
        workspace.RunNet(data.Name())
        workspace.RunNet(train.Name())
        losses.append(float(workspace.FetchBlob("loss")))
    names = ["fc1_w", "fc1_b", "fc2_w", "fc2_b"] + [f"emb_{f}" for f in range(3)]
    return {n: workspace.FetchBlob(n) for n in names}, losses


def test_ctr_example_same_parameters():
    m = _ctr_model_module()
    cfg = m.Config(batch=64)
    steps = 25
    plain_init = m.build_init(cfg)
    data = m.build_data(cfg, "ctr_data_train", cfg.seed + 1000)
    want, want_losses = _run_ctr([plain_init], data, m.build_train(cfg), steps)
    model = ctr_with_brew(m, cfg)
    assert [op.type for op in model.net.Proto().op].count("ScatterWeightedSum") == 3
    data = m.build_data(cfg, "ctr_data_train", cfg.seed + 1000)
    got, losses = _run_ctr([_teacher_init(plain_init), model.param_init_net], data,
                           model.net, steps)
    assert losses == want_losses
    assert losses[-1] < losses[0]
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_device_options_follow_the_parameters():
    _, net = mlp_with_brew("momentum")
    updates = [op for op in net.Proto().op if op.type == "MomentumSGDUpdate"]
    assert all(op.HasField("device_option") for op in updates)
    assert all(op.device_option.device_type == caffe2_pb2.CPU for op in updates)
