"""Caffe2's brew_test: helpers build the right ops and parameters, arg_scope rules,
Register / has_helper; plus every simple helper run against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import brew, core, scope, workspace
from caffe2lite.model_helper import ModelHelper
from caffe2lite.modeling.parameter_info import ParameterTags


def myhelper(model, val=-1):
    return val


def myhelper2(model, val=-1):
    return val


for _helper in (myhelper, myhelper2):
    if not brew.has_helper(_helper):
        brew.Register(_helper)


def _run(model):
    workspace.RunNetOnce(model.param_init_net)
    workspace.RunNetOnce(model.net)


@pytest.mark.skipif(not core.IsOperator("Dropout"), reason="Dropout is not registered yet")
def test_dropout():
    p = 0.2
    workspace.FeedBlob("x", np.ones((100, 100), np.float32) - p)
    model = ModelHelper(name="test_model")
    brew.dropout(model, "x", "out", is_test=False)
    _run(model)
    assert abs(workspace.FetchBlob("out").mean() - (1 - p)) < 0.05


def test_dropout_needs_is_test():
    with pytest.raises(AssertionError, match="Argument 'is_test' is required"):
        brew.dropout(ModelHelper(name="m"), "x", "out")


def test_fc():
    x = np.random.default_rng(0).random((15, 15)).astype(np.float32) - 0.5
    workspace.FeedBlob("x", x)
    model = ModelHelper(name="test_model")
    out = brew.fc(model, "x", "out_1", 15, 15)
    model.Validate()
    _run(model)
    assert str(out) == "out_1"
    init_types = [op.type for op in model.param_init_net.Proto().op]
    assert init_types == ["XavierFill", "ConstantFill"]
    w, b = workspace.FetchBlob("out_1_w"), workspace.FetchBlob("out_1_b")
    assert w.shape == (15, 15) and b.shape == (15,)
    np.testing.assert_allclose(workspace.FetchBlob("out_1"), x @ w.T + b, rtol=1e-5,
                               atol=1e-6)
    assert [str(p) for p in model.params] == ["out_1_w", "out_1_b"]
    assert [str(p) for p in model.weights] == ["out_1_w"]
    assert [str(p) for p in model.biases] == ["out_1_b"]


def test_fc_initializers_and_no_init_params():
    model = ModelHelper(name="m")
    brew.fc(model, "x", "a", 3, 2, weight_init=("ConstantFill", {"value": 2.0}),
            bias_init=("ConstantFill", {"value": -1.0}))
    workspace.RunNetOnce(model.param_init_net)
    np.testing.assert_array_equal(workspace.FetchBlob("a_w"), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(workspace.FetchBlob("a_b"), [-1.0, -1.0])
    external = ModelHelper(name="e", init_params=False)
    brew.fc(external, "x", "a", 3, 2)
    assert len(external.param_init_net.Proto().op) == 0
    assert [str(p) for p in external.params] == ["a_w", "a_b"]


def test_relu():
    workspace.FeedBlob("xpos", np.ones((5, 5), np.float32) - 0.5)
    workspace.FeedBlob("xneg", np.ones((5, 5), np.float32) - 1.5)
    model = ModelHelper(name="test_model")
    brew.relu(model, "xpos", "out_xpos")
    brew.relu(model, "xneg", "out_xneg")
    model.Validate()
    _run(model)
    assert workspace.FetchBlob("out_xpos").mean() == pytest.approx(0.5)
    assert workspace.FetchBlob("out_xneg").mean() == pytest.approx(0)


@pytest.mark.skipif(not core.IsOperator("Tanh"), reason="Tanh is not registered yet")
def test_tanh():
    workspace.FeedBlob("x", np.ones((5, 5), np.float32) - 0.5)
    model = ModelHelper(name="test_model")
    brew.tanh(model, "x", "out_tanh")
    model.Validate()
    _run(model)
    assert workspace.FetchBlob("out_tanh").mean() == pytest.approx(np.tanh(0.5), abs=1e-5)


def test_sigmoid_and_softmax():
    x = np.array([[0.0, 1.0, -2.0]], np.float32)
    workspace.FeedBlob("x", x)
    model = ModelHelper(name="m")
    brew.sigmoid(model, "x", "sig")
    brew.softmax(model, "x", "soft")
    _run(model)
    np.testing.assert_allclose(workspace.FetchBlob("sig"), 1 / (1 + np.exp(-x)), rtol=1e-6)
    e = np.exp(x - x.max())
    np.testing.assert_allclose(workspace.FetchBlob("soft"), e / e.sum(), rtol=1e-6)


def test_concat_sum_and_transpose():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.ones((2, 3), np.float32)
    workspace.FeedBlob("a", a)
    workspace.FeedBlob("b", b)
    model = ModelHelper(name="m")
    out = brew.concat(model, ["a", "b"], "cat", axis=1)
    assert str(out) == "cat"
    concat_op = model.net.Proto().op[0]
    assert list(concat_op.output) == ["cat", "_cat_concat_dims"]
    assert "order" not in [arg.name for arg in concat_op.arg]  # dropped beside axis
    brew.sum(model, ["a", "b"], "total")
    has_transpose = core.IsOperator("Transpose")
    if has_transpose:
        brew.transpose(model, "a", "at", axes=[1, 0])
    _run(model)
    np.testing.assert_array_equal(workspace.FetchBlob("cat"), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(workspace.FetchBlob("total"), a + b)
    if has_transpose:
        np.testing.assert_array_equal(workspace.FetchBlob("at"), a.T)


def test_layer_norm_builds_caffe2s_ops():
    model = ModelHelper(name="m")
    out, mean, std = brew.layer_norm(model, "x", "ln", dim_in=3, axis=1, epsilon=1e-3)
    types = [op.type for op in model.net.Proto().op]
    assert types == ["LayerNorm", "Mul", "Add"]
    assert (str(out), str(mean), str(std)) == ("ln_biased", "ln_mean", "ln_std")
    assert [str(p) for p in model.params] == ["ln_scale", "ln_bias"]
    if core.IsOperator("LayerNorm"):
        x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
        workspace.FeedBlob("x", x)
        _run(model)
        z = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)
        np.testing.assert_allclose(workspace.FetchBlob("ln_biased"), z, rtol=1e-4,
                                   atol=1e-5)


def test_validate():
    model = ModelHelper(name="test_model")
    model.params.append("aaa")
    model.params.append("bbb")
    assert model._Validate() == []
    model.params.append("xxx")
    model.params.append("bbb")
    assert model._Validate() == ["bbb"]
    with pytest.raises(AssertionError, match=r"Duplicate params: \['bbb'\]"):
        model.Validate()


def test_arg_scope():
    model = ModelHelper(name="test_model")
    with brew.arg_scope([myhelper], val=15):
        assert brew.myhelper(model) == 15
    with brew.arg_scope([myhelper, myhelper2], val=15):
        assert [brew.myhelper(model), brew.myhelper2(model)] == [15, 15]


def test_arg_scope_nested():
    model = ModelHelper(name="test_model")
    with brew.arg_scope([myhelper], val=-3), brew.arg_scope([myhelper], val=-2):
        with brew.arg_scope([myhelper], val=16):
            assert brew.myhelper(model) == 16
        assert brew.myhelper(model) == -2
    assert brew.myhelper(model, val=15) == 15
    assert brew.myhelper(model) == -1


@pytest.mark.skipif(not core.IsOperator("Conv"), reason="Conv is not registered yet")
def test_arg_scope_single():
    workspace.FeedBlob("x", np.random.default_rng(0).random((4, 3, 32, 32))
                       .astype(np.float32) - 0.5)
    model = ModelHelper(name="test_model")
    with brew.arg_scope(brew.conv, stride=2, pad=2, weight_init=("XavierFill", {}),
                        bias_init=("ConstantFill", {})):
        brew.conv(model=model, blob_in="x", blob_out="out", dim_in=3, dim_out=64, kernel=3)
    model.Validate()
    _run(model)
    assert workspace.FetchBlob("out").shape == (4, 64, 17, 17)


@pytest.mark.skipif(not core.IsOperator("Conv"), reason="Conv is not registered yet")
def test_model_helper_arg_scope_order():
    workspace.FeedBlob("x", np.random.default_rng(0).random((4, 32, 32, 3))
                       .astype(np.float32) - 0.5)
    model = ModelHelper(name="test_model", arg_scope={"order": "NHWC"})
    with brew.arg_scope(brew.conv, stride=2, pad=2, weight_init=("XavierFill", {}),
                        bias_init=("ConstantFill", {})):
        brew.conv(model=model, blob_in="x", blob_out="out", dim_in=3, dim_out=64,
                  kernel=[8, 3])
    model.Validate()
    _run(model)
    assert workspace.FetchBlob("out").shape == (4, 15, 17, 64)


def test_conv_builds_caffe2s_op_and_params():
    model = ModelHelper(name="m", arg_scope={"order": "NHWC"})
    brew.conv(model, "x", "c", dim_in=4, dim_out=8, kernel=[5, 3], stride=2)
    weight_fill = model.param_init_net.Proto().op[0]
    shape = next(a for a in weight_fill.arg if a.name == "shape")
    assert list(shape.ints) == [8, 5, 3, 4]
    op = model.net.Proto().op[0]
    args = {a.name: a for a in op.arg}
    assert op.type == "Conv" and list(op.input) == ["x", "c_w", "c_b"]
    assert (args["kernel_h"].i, args["kernel_w"].i, args["order"].s) == (5, 3, b"NHWC")
    nobias = ModelHelper(name="n")
    brew.conv(nobias, "x", "c", 4, 8, 3, no_bias=True, use_cudnn=False)
    op = nobias.net.Proto().op[0]
    assert list(op.input) == ["x", "c_w"]
    assert "no_bias" not in [a.name for a in op.arg] and op.engine == ""


def test_pooling_and_spatial_bn_and_lrn_ops():
    model = ModelHelper(name="m")
    brew.max_pool(model, "x", "mp", kernel=2, stride=2)
    brew.average_pool(model, "x", "ap", kernel=2, stride=2)
    out = brew.spatial_bn(model, "x", "bn", 3, epsilon=1e-3, is_test=False)
    lrn = brew.lrn(model, "x", "lrn", size=3)
    types = [op.type for op in model.net.Proto().op]
    assert types == ["MaxPool", "AveragePool", "SpatialBN", "LRN"]
    bn = model.net.Proto().op[2]
    assert list(bn.input) == ["x", "bn_s", "bn_b", "bn_rm", "bn_riv"]
    assert list(bn.output) == ["bn", "bn_rm", "bn_riv", "bn_sm", "bn_siv"]
    assert str(out) == "bn" and str(lrn) == "lrn"
    assert list(model.net.Proto().op[3].output) == ["lrn", "_lrn_scale"]
    assert [str(p) for p in model.GetParams()] == ["bn_s", "bn_b"]
    assert [str(p) for p in model.GetComputedParams()] == ["bn_rm", "bn_riv"]
    test_model = ModelHelper(name="t")
    brew.spatial_bn(test_model, "x", "bn", 3, is_test=True)
    assert list(test_model.net.Proto().op[0].output) == ["bn"]


@pytest.mark.skipif(not (core.IsOperator("MaxPool") and core.IsOperator("SpatialBN")),
                    reason="MaxPool / SpatialBN are not registered yet")
def test_pooling_and_spatial_bn_run():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    workspace.FeedBlob("x", x)
    model = ModelHelper(name="m")
    brew.max_pool(model, "x", "mp", kernel=2, stride=2)
    brew.spatial_bn(model, "x", "bn", 3, epsilon=1e-5, is_test=True)
    _run(model)
    np.testing.assert_allclose(workspace.FetchBlob("mp"),
                               x.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5)))
    np.testing.assert_allclose(workspace.FetchBlob("bn"), x / np.sqrt(1 + 1e-5), rtol=1e-5)


def test_double_register():
    with pytest.raises(AttributeError, match="Helper myhelper already exists"):
        brew.Register(myhelper)


def test_has_helper_and_get_helper():
    assert brew.has_helper(brew.conv)
    assert brew.has_helper("conv")

    def myhelper3():
        pass

    assert not brew.has_helper(myhelper3)
    from caffe2lite.modeling.helpers.fc import fc
    assert brew.get_helper("fc") is fc
    with pytest.raises(AttributeError, match="Helper function nope not registered."):
        brew.nope  # noqa: B018


def test_helper_needs_a_model():
    with pytest.raises(RuntimeError, match="The first input of helper function should be"):
        brew.fc("x", "out", 2, 3)


def test_arg_scope_filters_to_helper_arguments():
    model = ModelHelper(name="m", arg_scope={"order": "NHWC", "extra": 1})
    brew.concat(model, ["a", "b"], "cat")  # concat takes **kwargs: gets every argument
    args = {a.name for a in model.net.Proto().op[0].arg}
    assert {"order", "extra"} <= args
    assert brew.myhelper(model) == -1  # myhelper takes only val: nothing is passed


def test_get_params():
    def param(x):
        return core.ScopedBlobReference(x)

    def names(x):
        return sorted(str(p) for p in x)

    model = ModelHelper(name="test_model")
    model.AddParameter(param("a"))
    model.AddParameter(param("b"), tags=ParameterTags.COMPUTED_PARAM)
    with scope.NameScope("c"):
        model.AddParameter(param("a"))
        model.AddParameter(param("d"), tags=ParameterTags.COMPUTED_PARAM)
        assert names(model.GetParams()) == ["c/a"]
        assert names(model.GetComputedParams()) == ["c/d"]
        assert names(model.GetAllParams()) == ["c/a", "c/d"]
        assert names(model.GetAllParams("")) == ["a", "b", "c/a", "c/d"]
    assert names(model.GetParams()) == ["a", "c/a"]
    assert names(model.GetComputedParams()) == ["b", "c/d"]
    assert names(model.GetAllParams()) == ["a", "b", "c/a", "c/d"]
    assert names(model.GetAllParams("c")) == ["c/a", "c/d"]
    assert names(model.GetAllParams("c/")) == ["c/a", "c/d"]


def test_param_consistence():
    model = ModelHelper(name="test_mode")
    cnv = brew.conv(model, "data", "cnv", 32, 32, 4)
    step_model = ModelHelper(name="step_model", param_model=model)
    a = brew.fc(step_model, cnv, "a", 100, 200)
    brew.fc(model, a, "b", 200, 5)
    assert model._parameters_info is step_model._parameters_info
    assert [str(p) for p in model.params] == ["cnv_w", "cnv_b", "a_w", "a_b", "b_w", "b_b"]


def test_name_scope_applies_to_params_and_outputs():
    model = ModelHelper(name="m")
    with scope.NameScope("tower"):
        brew.fc(model, "x", "fc", 2, 3)
    assert [str(p) for p in model.params] == ["tower/fc_w", "tower/fc_b"]
    assert list(model.net.Proto().op[0].output) == ["tower/fc"]


def test_iter_and_weight_decay_helpers():
    model = ModelHelper(name="m")
    brew.iter(model, "it")
    h = brew.fc(model, "x", "fc", 2, 1)
    loss = model.AveragedLoss(model.SquaredL2Distance([h, "y"], "sq"), "loss")
    model.AddGradientOperators([loss])
    brew.add_weight_decay(model, 0.25)
    brew.add_weight_decay(model, 0.0)  # nothing
    decay = model.net.Proto().op[-1]
    assert (decay.type, list(decay.input)) == ("WeightedSum",
                                                ["fc_w_grad", "ONE", "fc_w", "wd"])
    it_fill = model.param_init_net.Proto().op[0]
    assert it_fill.device_option.device_type == 0 and it_fill.output[0] == "it"
    workspace.FeedBlob("x", np.ones((1, 2), np.float32))
    workspace.FeedBlob("y", np.zeros((1, 1), np.float32))
    _run(model)
    assert workspace.FetchBlob("it").tolist() == [1]


@pytest.mark.skipif(not core.IsOperator("ElementwiseLinear"),
                    reason="ElementwiseLinear is not registered yet")
def test_elementwise_linear():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    workspace.FeedBlob("x", x)
    model = ModelHelper(name="m")
    brew.elementwise_linear(model, "x", "el", 3, weight_init=("ConstantFill", {"value": 2.0}))
    _run(model)
    np.testing.assert_array_equal(workspace.FetchBlob("el"), 2 * x)
    assert [str(w) for w in model.weights] == ["el_w"]


@pytest.mark.skipif(not core.IsOperator("PRelu"), reason="PRelu is not registered yet")
def test_prelu():
    x = np.array([[-2.0, 3.0]], np.float32)
    workspace.FeedBlob("x", x)
    model = ModelHelper(name="m")
    brew.prelu(model, "x", "pr")
    _run(model)
    np.testing.assert_allclose(workspace.FetchBlob("pr"), [[-0.5, 3.0]])
    assert [str(p) for p in model.params] == ["pr_slope"]


def test_mat_mul_and_reduce_sum_and_sub():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    workspace.FeedBlob("a", a)
    workspace.FeedBlob("b", np.ones((3, 2), np.float32))
    model = ModelHelper(name="m")
    brew.mat_mul(model, ["a", "b"], "ab")
    brew.reduce_sum(model, "a", "rs", axes=[1], keepdims=0)
    brew.sub(model, ["a", "a"], "zero")
    _run(model)
    np.testing.assert_array_equal(workspace.FetchBlob("ab"), a @ np.ones((3, 2)))
    np.testing.assert_array_equal(workspace.FetchBlob("rs"), a.sum(1))
    np.testing.assert_array_equal(workspace.FetchBlob("zero"), np.zeros((2, 3)))


@pytest.mark.skipif(not core.IsOperator("InstanceNorm"),
                    reason="InstanceNorm is not registered yet")
def test_instance_norm():
    x = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    workspace.FeedBlob("x", x)
    model = ModelHelper(name="m")
    out = brew.instance_norm(model, "x", "inorm", 3, epsilon=1e-5)
    assert list(model.net.Proto().op[0].output) == ["inorm", "inorm_sm", "inorm_siv"]
    assert [str(p) for p in model.params] == ["inorm_s", "inorm_b"]
    _run(model)
    want = (x - x.mean(2, keepdims=True)) / np.sqrt(x.var(2, keepdims=True) + 1e-5)
    np.testing.assert_allclose(workspace.FetchBlob(out), want, rtol=1e-4, atol=1e-5)
