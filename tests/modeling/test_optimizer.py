"""Caffe2's optimizer_test / optimizer_test_util: each optimizer fits a linear model
(dense through FC, sparse through Gather with repeated indices), its auxiliary
parameters are as Caffe2 listed them, and the ops and blob names are Caffe2's."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import brew, core, model_helper, optimizer, workspace
from caffe2lite.modeling.parameter_info import ParameterTags

PERFECT = np.array([2, 6, 5, 0, 1], np.float32)


def _dense_model():
    rng = np.random.RandomState(123)
    data = rng.randint(2, size=(20, PERFECT.size)).astype(np.float32)
    label = np.dot(data, PERFECT)[:, np.newaxis]
    model = model_helper.ModelHelper(name="test")
    out = brew.fc(model, "data", "fc", PERFECT.size, 1, ("ConstantFill", {}),
                  ("ConstantFill", {}), axis=0)
    sq = model.SquaredL2Distance([out, "label"])
    loss = model.AveragedLoss(sq, "avg_loss")
    grad_map = model.AddGradientOperators([loss])
    assert isinstance(grad_map["fc_w"], core.BlobReference)
    return model, data, label, rng


def _train_dense(build, steps=2000):
    model, data, label, rng = _dense_model()
    opt = build(model)
    workspace.FeedBlob("data", data[0])
    workspace.FeedBlob("label", label[0])
    workspace.RunNetOnce(model.param_init_net)
    workspace.CreateNet(model.net, True)
    for _ in range(steps):
        idx = rng.randint(data.shape[0])
        workspace.FeedBlob("data", data[idx])
        workspace.FeedBlob("label", label[idx])
        workspace.RunNet(model.net.Proto().name)
    np.testing.assert_allclose(PERFECT[np.newaxis, :], workspace.FetchBlob("fc_w"),
                               atol=1e-2)
    return opt


def _train_sparse(build, steps=2000, pool="ReduceFrontSum"):
    duplication = 2  # two indices per weight, so a weight may count once or twice
    rng = np.random.RandomState(123)
    data = rng.randint(2, size=(20, PERFECT.size * duplication)).astype(np.float32)
    label = np.dot(data, np.repeat(PERFECT, duplication))
    model = model_helper.ModelHelper(name="test")
    w = model.param_init_net.ConstantFill([], "w", shape=[PERFECT.size], value=0.0)
    model.params.append(w)
    if pool == "ReduceFrontSum":
        picked = model.net.Gather([w, "indices"], "gather")
        out = model.net.ReduceFrontSum(picked, "sum")
    else:  # the same sum as one bag, of shape (1,)
        out = model.net.SparseLengthsSum([w, "indices", "lengths"], "sum")
    sq = model.SquaredL2Distance([out, "label"])
    loss = model.AveragedLoss(sq, "avg_loss")
    grad_map = model.AddGradientOperators([loss])
    assert isinstance(grad_map["w"], core.GradientSlice)
    opt = build(model)
    for index_type in (np.int32, np.int64):
        workspace.RunNetOnce(model.param_init_net)
        workspace.FeedBlob("indices", np.zeros(1, index_type))
        workspace.FeedBlob("lengths", np.ones(1, np.int32))
        workspace.FeedBlob("label", np.zeros((), np.float32))
        workspace.CreateNet(model.net, True)
        for _ in range(steps):
            idx = rng.randint(data.shape[0])
            indices = np.repeat(np.arange(PERFECT.size), duplication)[data[idx] == 1]
            if indices.size == 0:
                continue
            workspace.FeedBlob("indices", indices.astype(index_type))
            workspace.FeedBlob("lengths", np.array([indices.size], np.int32))
            workspace.FeedBlob("label", np.array(label[idx], np.float32).reshape(
                () if pool == "ReduceFrontSum" else (1,)))
            workspace.RunNet(model.net.Proto().name)
        np.testing.assert_allclose(PERFECT, workspace.FetchBlob("w"), atol=1e-2)
    return opt


BUILDERS = {
    "sgd": lambda m: optimizer.build_sgd(m, base_learning_rate=0.1),
    "momentum_sgd": lambda m: optimizer.build_sgd(m, base_learning_rate=0.1, momentum=0.1),
    "adagrad": lambda m: optimizer.build_adagrad(m, base_learning_rate=1.0),
    "adam": lambda m: optimizer.build_adam(m, base_learning_rate=0.1),
    "ftrl": lambda m: optimizer.build_ftrl(m, engine=None, alpha=1.0, beta=0.1,
                                           lambda1=0.0, lambda2=0.0),
}


def _check_aux(name, opt):
    aux = opt.get_auxiliary_parameters()
    if name == "sgd":
        assert aux.shared and not aux.local
        for p in aux.shared:
            np.testing.assert_allclose(workspace.FetchBlob(p), [1.0])
    elif name == "momentum_sgd":
        assert aux.shared and aux.local
        for p in aux.shared:
            np.testing.assert_allclose(workspace.FetchBlob(p), [1.0])
    elif name in ("adagrad", "ftrl"):
        assert not aux.shared and aux.local
        for p in aux.local:
            workspace.FetchBlob(p)
    else:
        assert aux.shared and aux.local
        assert workspace.HasBlob("optimizer_iteration")
        for p in aux.shared + aux.local:
            workspace.FetchBlob(p)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_dense(name):
    opt = _train_dense(BUILDERS[name])
    _check_aux(name, opt)
    if name == "adam":
        np.testing.assert_array_equal(workspace.FetchBlob("optimizer_iteration"), [2000])


@pytest.mark.skipif(not core.IsOperator("ReduceFrontSum"),
                    reason="ReduceFrontSum is not registered yet")
@pytest.mark.parametrize("name", list(BUILDERS))
def test_sparse(name):
    opt = _train_sparse(BUILDERS[name])
    _check_aux(name, opt)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_sparse_through_sparse_lengths_sum(name):
    opt = _train_sparse(BUILDERS[name], steps=1000, pool="SparseLengthsSum")
    _check_aux(name, opt)


def test_row_wise_adagrad_sparse_lengths_sum():
    _train_sparse(lambda m: optimizer.build_adagrad(m, base_learning_rate=1.0,
                                                    rowWise=True),
                  steps=1000, pool="SparseLengthsSum")


def test_row_wise_adagrad_sparse():
    if not core.IsOperator("ReduceFrontSum"):
        pytest.skip("ReduceFrontSum is not registered yet")
    _train_sparse(lambda m: optimizer.build_adagrad(m, base_learning_rate=1.0,
                                                    rowWise=True))


def _ops(model):
    return [op.type for op in model.net.Proto().op]


def _small_model(sparse=False):
    model = model_helper.ModelHelper(name="small")
    if sparse:
        w = model.param_init_net.ConstantFill([], "emb", shape=[4, 2], value=0.5)
        model.AddParameter(w)
        x = model.net.Gather([w, "ids"], "x")
    else:
        x = "x"
    h = brew.fc(model, x, "fc", 2, 1)
    loss = model.AveragedLoss(model.SquaredL2Distance([h, "label"], "sq"), "loss")
    model.AddGradientOperators([loss])
    return model


def test_sgd_ops_and_blob_names():
    model = _small_model(sparse=True)
    opt = optimizer.build_sgd(model, base_learning_rate=0.5, policy="step", stepsize=3,
                              gamma=0.5)
    types = _ops(model)
    assert types[-5:] == ["AtomicIter", "LearningRate", "ScatterWeightedSum",
                          "WeightedSum", "WeightedSum"]
    lr_op = model.net.Proto().op[-4]
    lr_name = f"SgdOptimizer_{opt._instance_num}_lr_cpu"
    assert list(lr_op.output) == [lr_name]
    args = {a.name: a for a in lr_op.arg}
    assert args["base_lr"].f == -0.5 and args["policy"].s == b"step"
    assert args["stepsize"].i == 3
    init_outputs = [o for op in model.param_init_net.Proto().op for o in op.output]
    assert {"optimizer_iteration", "iteration_mutex", "ONE_0_0"} <= set(init_outputs)
    scatter = model.net.Proto().op[-3]
    assert list(scatter.input)[:2] == ["emb", "ONE_0_0"] and list(scatter.output) == ["emb"]


def test_momentum_state_names_and_sparse_update():
    model = _small_model(sparse=True)
    opt = optimizer.build_sgd(model, base_learning_rate=0.5, momentum=0.9, nesterov=0)
    assert _ops(model)[-3:] == ["SparseMomentumSGDUpdate", "MomentumSGDUpdate",
                                "MomentumSGDUpdate"]
    assert [str(b) for b in opt.get_auxiliary_parameters().local] == [
        "emb_momentum", "fc_w_momentum", "fc_b_momentum"]
    lr_op = next(op for op in model.net.Proto().op if op.type == "LearningRate")
    assert next(a.f for a in lr_op.arg if a.name == "base_lr") == 0.5  # positive


def test_adagrad_and_adam_state_names():
    model = _small_model(sparse=True)
    opt = optimizer.build_adagrad(model, base_learning_rate=0.1)
    assert _ops(model)[-3:] == ["SparseAdagrad", "Adagrad", "Adagrad"]
    assert [str(b) for b in opt.get_auxiliary_parameters().local] == [
        "emb_squared_sum", "fc_w_squared_sum", "fc_b_squared_sum"]
    eps = next(a.f for a in model.net.Proto().op[-1].arg if a.name == "epsilon")
    assert eps == pytest.approx(1e-4)  # the builder's default, not the op's 1e-5
    model = _small_model(sparse=True)
    opt = optimizer.build_adam(model, base_learning_rate=0.1)
    assert _ops(model)[-3:] == ["SparseAdam", "Adam", "Adam"]
    assert [str(b) for b in opt.get_auxiliary_parameters().local][:2] == [
        "emb_first_moment", "emb_second_moment"]
    assert [str(b) for b in opt.get_auxiliary_parameters().shared] == [
        "optimizer_iteration"] * 3


def test_row_wise_state_shapes():
    model = _small_model(sparse=True)
    info = model.get_param_info(core.BlobReference("emb"))
    optimizer.AdagradOptimizer(alpha=0.1, rowWise=True)(
        model.net, model.param_init_net, info)
    assert _ops(model)[-1] == "RowWiseSparseAdagrad"
    workspace.RunNetOnce(model.param_init_net)
    assert workspace.FetchBlob("emb_avg_squared_sum").shape == (4,)


def test_row_wise_needs_a_sparse_gradient():
    model = _small_model()
    with pytest.raises(AssertionError, match="rowWise=True, gradient must be"):
        optimizer.build_adagrad(model, base_learning_rate=0.1, rowWise=True)


def test_zero_learning_rate_adds_nothing_and_negative_is_refused():
    model = _small_model()
    before = len(model.net.Proto().op)
    optimizer.build_sgd(model, base_learning_rate=0.0)
    assert len(model.net.Proto().op) == before
    with pytest.raises(AssertionError, match="Expect positive base learning rate"):
        optimizer.build_sgd(model, base_learning_rate=-1.0)


def test_weight_decay():
    model = _small_model()
    optimizer.add_weight_decay(model, weight_decay=0.01)
    decay = model.net.Proto().op[-1]
    assert decay.type == "WeightedSum"
    assert list(decay.input) == ["fc_w_grad", "ONE_0_0", "fc_w", "wd_0_0"]
    assert list(decay.output) == ["fc_w_grad"]
    # only weights (fc_b is a bias) get the decay
    assert sum(op.type == "WeightedSum" for op in model.net.Proto().op) == 1


def test_weight_decay_step_equals_its_formula():
    model = _small_model()
    optimizer.add_weight_decay(model, weight_decay=0.5)
    optimizer.build_sgd(model, base_learning_rate=0.1)
    workspace.FeedBlob("x", np.array([[1.0, 2.0]], np.float32))
    workspace.FeedBlob("label", np.array([[0.0]], np.float32))
    workspace.RunNetOnce(model.param_init_net)
    w0, b0 = workspace.FetchBlob("fc_w"), workspace.FetchBlob("fc_b")
    workspace.RunNetOnce(model.net)
    x = np.array([[1.0, 2.0]], np.float32)
    err = x @ w0.T + b0  # d(0.5 * err^2) / d(out)
    grad_w = err.T @ x + 0.5 * w0
    np.testing.assert_allclose(workspace.FetchBlob("fc_w"), w0 - 0.1 * grad_w, rtol=1e-5)
    np.testing.assert_allclose(workspace.FetchBlob("fc_b"), b0 - 0.1 * err.sum(0),
                               rtol=1e-5)


def test_use_optimizer_context_per_parameter():
    sgd = optimizer.SgdOptimizer(base_learning_rate=0.1)
    adagrad = optimizer.AdagradOptimizer(alpha=0.1)
    model = model_helper.ModelHelper(name="multi")
    with optimizer.UseOptimizer({"WEIGHT": sgd, optimizer.DEFAULT_OPTIM: adagrad}):
        h = brew.fc(model, "x", "fc", 2, 1)
    loss = model.AveragedLoss(model.SquaredL2Distance([h, "label"], "sq"), "loss")
    model.AddGradientOperators([loss])
    assert model.get_param_info(core.BlobReference("fc_w")).optimizer is sgd
    assert model.get_param_info(core.BlobReference("fc_b")).optimizer is adagrad
    optimizer.build_adam(model, base_learning_rate=0.1)
    assert _ops(model)[-5:] == ["AtomicIter", "LearningRate", "WeightedSum",
                                "LearningRate", "Adagrad"]


def test_optimizer_called_directly_with_param_and_grad():
    net, init = core.Net("n"), core.Net("init")
    init.ConstantFill([], "p", shape=[2], value=1.0)
    opt = optimizer.SgdOptimizer(base_learning_rate=0.5)
    opt(net, init, "p", "p_grad")
    assert [op.type for op in net.Proto().op] == ["AtomicIter", "LearningRate",
                                                  "WeightedSum"]
    workspace.RunNetOnce(init)
    workspace.FeedBlob("p_grad", np.array([1.0, -1.0], np.float32))
    workspace.RunNetOnce(net)
    np.testing.assert_allclose(workspace.FetchBlob("p"), [0.5, 1.5])


def test_learning_rate_policy_through_learning_rate_op():
    net, init = core.Net("n"), core.Net("init")
    init.ConstantFill([], "p", shape=[1], value=0.0)
    optimizer.SgdOptimizer(base_learning_rate=1.0, policy="step", stepsize=2,
                           gamma=0.1)(net, init, "p", "g")
    workspace.RunNetOnce(init)
    workspace.FeedBlob("g", np.array([-1.0], np.float32))
    workspace.CreateNet(net)
    for _ in range(4):
        workspace.RunNet(net.Name())
    # AtomicIter runs first, so the steps see iterations 1..4: lr 1, 0.1, 0.1, 0.01
    np.testing.assert_allclose(workspace.FetchBlob("p"), [1.21], rtol=1e-5)


def test_parameters_tagged_computed_are_not_optimized():
    model = model_helper.ModelHelper(name="frozen")
    h = brew.fc(model, "x", "fc", 2, 1, freeze_bias=True)
    assert [str(p) for p in model.GetComputedParams()] == ["fc_b"]
    assert model.biases and str(model.biases[0]) == "fc_b"
    assert ParameterTags.COMPUTED_PARAM == "COMPUTED_PARAM"
    loss = model.AveragedLoss(model.SquaredL2Distance([h, "label"], "sq"), "loss")
    model.AddGradientOperators([loss])
    assert [str(i.blob) for i in model.GetOptimizationParamInfo()] == ["fc_w"]


@pytest.mark.skipif(not (core.IsOperator("FloatToHalf") and core.IsOperator("HalfToFloat")),
                    reason="FloatToHalf / HalfToFloat are not registered yet")
def test_multi_precision_sgd_updates_the_float_master_copy():
    from caffe2lite.modeling.initializers import PseudoFP16Initializer
    from caffe2lite.modeling.parameter_info import ParameterInfo

    model = model_helper.ModelHelper(name="mp")
    w = model.create_param("w", [2], PseudoFP16Initializer("ConstantFill", value=1.0))
    info = model.get_param_info(w)
    assert str(info.blob_copy[core.DataType.FLOAT]) == "w_fp32"
    info.grad = core.BlobReference("w_grad")
    opt = optimizer.MultiPrecisionSgdOptimizer(base_learning_rate=0.5, momentum=0.0,
                                               nesterov=0)
    opt(model.net, model.param_init_net, info)
    assert [op.type for op in model.net.Proto().op][-3:] == [
        "HalfToFloat", "MomentumSGDUpdate", "FloatToHalf"]
    workspace.RunNetOnce(model.param_init_net)
    workspace.FeedBlob("w_grad", np.array([1.0, -2.0], np.float16))
    workspace.RunNetOnce(model.net)
    np.testing.assert_array_equal(workspace.FetchBlob("w_fp32"), [0.5, 2.0])
    assert workspace.FetchBlob("w").dtype == np.float16
    np.testing.assert_array_equal(workspace.FetchBlob("w"), [0.5, 2.0])
    plain = ParameterInfo(param_id=None, param=core.BlobReference("v"),
                          grad=core.BlobReference("v_grad"))
    opt(model.net, model.param_init_net, plain)  # a float32 parameter: plain SGD
    assert model.net.Proto().op[-1].type == "WeightedSum"


def test_ftrl_state_and_simd_engine():
    model = _small_model(sparse=True)
    opt = optimizer.build_ftrl(model, engine=None, alpha=0.5)
    assert _ops(model)[-3:] == ["SparseFtrl", "Ftrl", "Ftrl"]
    assert [str(b) for b in opt.get_auxiliary_parameters().local][0] == "emb_ftrl_nz"
    workspace.RunNetOnce(model.param_init_net)
    assert workspace.FetchBlob("emb_ftrl_nz").shape == (4, 2, 2)
    with pytest.raises(AssertionError):
        optimizer.build_ftrl(_small_model(), alpha=0.5)  # no SIMD kernels here
