"""The nets of the click-through-rate example, built with caffe2lite's Caffe2 API.

Five nets share one workspace:

* ``ctr_init``: the model's parameters, the optimizer's constants (ONE, ITER) and a
  hidden "teacher" that decides which synthetic impressions get clicked.
* ``ctr_data_train`` / ``ctr_data_eval``: a fresh synthetic batch per run (the two
  differ only in their random seeds, so evaluation sees held-out examples): for each
  id-list feature, lengths and ids; dense features; and a click label drawn from the
  teacher (probit: click when teacher logit + N(0, 1) noise > 0).
* ``ctr_train``: SparseDropoutWithReplacement on every id list -> SparseLengthsSum
  embedding bags -> Concat with the dense features -> FC -> Relu -> FC ->
  SigmoidCrossEntropyWithLogits -> AveragedLoss, its backward pass, and SGD: WeightedSum
  for dense parameters, ScatterWeightedSum on the embedding rows a batch touched.
* ``ctr_eval``: the same forward pass without dropout, on the same parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from caffe2lite import core
from caffe2lite.core import GradientSlice
from caffe2lite.proto import caffe2_pb2

FLOAT, INT32, INT64, BOOL = (caffe2_pb2.TensorProto.FLOAT, caffe2_pb2.TensorProto.INT32,
                             caffe2_pb2.TensorProto.INT64, caffe2_pb2.TensorProto.BOOL)


@dataclass(frozen=True)
class Config:
    """Sizes and hyper-parameters (small, so that training takes about a second)."""

    features: int = 3          # id-list features
    vocab: int = 100           # ids 1..vocab-1 occur; row 0 is the dropout replacement
    embed_dim: int = 8
    mean_length: int = 4       # list lengths are uniform in 1..2*mean_length-1
    dense_dim: int = 4
    hidden: int = 16
    batch: int = 256
    dropout: float = 0.1
    base_lr: float = 0.5
    lr_stepsize: int = 200
    lr_gamma: float = 0.5
    teacher_scale: float = 0.5  # std of the teacher's embedding and dense weights
    seed: int = 1234
    eval_seed: int = 987654


def _net(name: str) -> core.Net:
    """A net called exactly ``name`` (core.Net adds ``_1``, ``_2`` ... to a name that
    was used before in this process; the files must not depend on that)."""
    net = core.Net(name)
    net.Proto().name = name
    return net


def _random(net: core.Net, op: str, inputs, output: str, seed: int, **kwargs):
    return getattr(net, op)(inputs, output, random_seed=seed, **kwargs)


def _dense_inputs(cfg: Config) -> int:
    return cfg.features * cfg.embed_dim + cfg.dense_dim


def build_init(cfg: Config) -> core.Net:
    """Parameters, optimizer constants and the hidden teacher."""
    init = _net("ctr_init")
    s = cfg.seed
    for f in range(cfg.features):
        _random(init, "UniformFill", [], f"emb_{f}", s + f,
                shape=[cfg.vocab, cfg.embed_dim], min=-0.05, max=0.05)
        _random(init, "GaussianFill", [], f"teacher_emb_{f}", s + 100 + f,
                shape=[cfg.vocab, cfg.embed_dim], std=cfg.teacher_scale)
    width = _dense_inputs(cfg)
    _random(init, "GaussianFill", [], "fc1_w", s + 10, shape=[cfg.hidden, width],
            std=(2.0 / width) ** 0.5)
    init.ConstantFill([], "fc1_b", shape=[cfg.hidden], value=0.0)
    _random(init, "GaussianFill", [], "fc2_w", s + 11, shape=[1, cfg.hidden],
            std=(1.0 / cfg.hidden) ** 0.5)
    init.ConstantFill([], "fc2_b", shape=[1], value=0.0)
    _random(init, "GaussianFill", [], "teacher_w", s + 12, shape=[1, width],
            std=cfg.teacher_scale / cfg.embed_dim ** 0.5)
    init.ConstantFill([], "teacher_b", shape=[1], value=-1.0)
    init.ConstantFill([], "ONE", shape=[1], value=1.0)
    init.ConstantFill([], "ITER", shape=[1], value=0, dtype=INT64)
    return init


def build_data(cfg: Config, name: str, seed: int, prefix: str = "") -> core.Net:
    """A synthetic batch: ``ids_f``/``lengths_f`` per feature, ``dense`` and ``label``."""
    net = _net(name)
    for f in range(cfg.features):
        lengths = _random(net, "UniformIntFill", [], f"{prefix}lengths_{f}", seed + 10 * f,
                          shape=[cfg.batch], min=1, max=2 * cfg.mean_length - 1)
        slots = net.LengthsRangeFill([lengths], f"{prefix}slots_{f}")
        ids = _random(net, "UniformIntFill", [slots], f"{prefix}ids32_{f}",
                      seed + 10 * f + 1, min=1, max=cfg.vocab - 1)
        net.Cast([ids], f"{prefix}ids_{f}", to=INT64)
    _random(net, "GaussianFill", [], f"{prefix}dense", seed + 7,
            shape=[cfg.batch, cfg.dense_dim])
    bags = [net.SparseLengthsSum(
        [f"teacher_emb_{f}", f"{prefix}ids_{f}", f"{prefix}lengths_{f}"],
        f"{prefix}teacher_bag_{f}") for f in range(cfg.features)]
    cat, _ = net.Concat(bags + [f"{prefix}dense"],
                        [f"{prefix}teacher_cat", f"{prefix}teacher_cat_split"], axis=1)
    logit = net.FC([cat, "teacher_w", "teacher_b"], f"{prefix}teacher_logit")
    noise = _random(net, "GaussianFill", [logit], f"{prefix}teacher_noise", seed + 8)
    score = net.Add([logit, noise], f"{prefix}teacher_score")
    positive = net.Relu([score], f"{prefix}teacher_relu")
    clicked = net.Cast([positive], f"{prefix}clicked", to=BOOL)
    net.Cast([clicked], f"{prefix}label", to=FLOAT)
    return net


def _forward(cfg: Config, net: core.Net, prefix: str, dropout_seed: int | None):
    """The model: embedding bags + dense -> FC -> Relu -> FC -> loss. Returns
    (logit, loss); dropout on the id lists when ``dropout_seed`` is given."""
    bags = []
    for f in range(cfg.features):
        ids, lengths = f"{prefix}ids_{f}", f"{prefix}lengths_{f}"
        if dropout_seed is not None:
            ids, lengths = _random(net, "SparseDropoutWithReplacement", [ids, lengths],
                                   [f"{prefix}ids_kept_{f}", f"{prefix}lengths_kept_{f}"],
                                   dropout_seed + f, ratio=cfg.dropout, replacement_value=0)
        bags.append(net.SparseLengthsSum([f"emb_{f}", ids, lengths], f"{prefix}bag_{f}"))
    cat, _ = net.Concat(bags + [f"{prefix}dense"], [f"{prefix}cat", f"{prefix}cat_split"],
                        axis=1)
    fc1 = net.FC([cat, "fc1_w", "fc1_b"], f"{prefix}fc1")
    hidden = net.Relu([fc1], f"{prefix}fc1_relu")
    logit = net.FC([hidden, "fc2_w", "fc2_b"], f"{prefix}logit")
    xent = net.SigmoidCrossEntropyWithLogits([logit, f"{prefix}label"], f"{prefix}xent")
    loss = net.AveragedLoss([xent], f"{prefix}loss")
    return logit, loss


DENSE_PARAMS = ("fc1_w", "fc1_b", "fc2_w", "fc2_b")


def parallel_forward(cfg: Config):
    """The model as ``data_parallel_model.Parallelize``'s forward_pass_builder_fun:
    the parameters of ``build_init`` declared on the ModelHelper (same fills), the
    forward pass without dropout, and the loss scaled by ``loss_scale``."""
    from caffe2lite.modeling.initializers import Initializer

    def forward(m, loss_scale):
        width = _dense_inputs(cfg)
        for f in range(cfg.features):
            m.create_param(f"emb_{f}", [cfg.vocab, cfg.embed_dim],
                           Initializer("UniformFill", min=-0.05, max=0.05))
        m.create_param("fc1_w", [cfg.hidden, width],
                       Initializer("GaussianFill", std=(2.0 / width) ** 0.5))
        m.create_param("fc1_b", [cfg.hidden], Initializer("ConstantFill", value=0.0))
        m.create_param("fc2_w", [1, cfg.hidden],
                       Initializer("GaussianFill", std=(1.0 / cfg.hidden) ** 0.5))
        m.create_param("fc2_b", [1], Initializer("ConstantFill", value=0.0))
        _, loss = _forward(cfg, m.net, "", dropout_seed=None)
        return [m.net.Scale(loss, "loss_scaled", scale=loss_scale)]

    return forward


def build_train(cfg: Config) -> core.Net:
    """Forward with dropout, the backward pass, and one SGD step."""
    net = _net("ctr_train")
    _, loss = _forward(cfg, net, "", dropout_seed=cfg.seed + 500)
    grads = net.AddGradientOperators([loss])
    net.Iter(["ITER"], ["ITER"])
    lr = net.LearningRate(["ITER"], "LR", base_lr=-cfg.base_lr, policy="step",
                          stepsize=cfg.lr_stepsize, gamma=cfg.lr_gamma)
    for param in DENSE_PARAMS:
        net.WeightedSum([param, "ONE", grads[param], lr], param)
    for f in range(cfg.features):
        grad = grads[f"emb_{f}"]
        assert isinstance(grad, GradientSlice), grad
        net.ScatterWeightedSum([f"emb_{f}", "ONE", grad.indices, grad.values, lr],
                               f"emb_{f}")
    net.AddExternalOutput(loss)
    return net


def build_eval(cfg: Config) -> core.Net:
    """Forward without dropout on the eval batch: ``eval_prob`` (click probabilities)
    and ``eval_loss`` (the external output)."""
    net = _net("ctr_eval")
    logit, loss = _forward(cfg, net, "eval_", dropout_seed=None)
    net.Sigmoid([logit], "eval_prob")
    net.AddExternalOutput(loss)
    return net


def build_all(cfg: Config = Config()) -> dict[str, core.Net]:
    """Every net of the example, by role."""
    return {
        "init": build_init(cfg),
        "data_train": build_data(cfg, "ctr_data_train", cfg.seed + 1000),
        "train": build_train(cfg),
        "data_eval": build_data(cfg, "ctr_data_eval", cfg.eval_seed, prefix="eval_"),
        "eval": build_eval(cfg),
    }


def build_plan(nets: dict[str, core.Net], steps: int) -> core.Plan:
    """init once, ``steps`` training iterations (a fresh batch each), one eval batch."""
    plan = core.Plan("ctr_plan")
    plan.AddStep(core.execution_step("ctr_init_step", [nets["init"]], num_iter=1))
    plan.AddStep(core.execution_step("ctr_train_step", [nets["data_train"], nets["train"]],
                                     num_iter=steps))
    plan.AddStep(core.execution_step("ctr_eval_step", [nets["data_eval"], nets["eval"]],
                                     num_iter=1))
    return plan
