"""ModelHelper: Caffe2's model_helper_test, parameters and their infos, gradients,
ops through the model, and ExtractPredictorNet."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from caffe2lite import brew, core, model_helper, workspace
from caffe2lite.errors import OperatorAttributeError
from caffe2lite.modeling.initializers import Initializer
from caffe2lite.modeling.parameter_info import ParameterInfo, ParameterTags


def _conv_model():
    model = model_helper.ModelHelper("test_orig")
    conv = brew.conv(model, "input", "conv", dim_in=3, dim_out=16,
                     weight_init=("MSRAFill", {}), kernel=3, stride=1, pad=0)
    conv = brew.spatial_bn(model, conv, "conv_bn", 16, epsilon=1e-3, is_test=False)
    conv = brew.relu(model, conv, "conv_relu")
    pred = brew.fc(model, conv, "pred", dim_in=16 * 3 * 3, dim_out=10)
    brew.softmax(model, pred, "softmax")
    return model


def test_get_complete_net_type():
    model = model_helper.ModelHelper("test_orig")
    brew.conv(model, "input", "conv", dim_in=3, dim_out=16,
              weight_init=("MSRAFill", {}), kernel=3, stride=1, pad=0)
    model.net.Proto().type = "async_scheduling"
    net = model.GetCompleteNet()
    assert net.Proto().type == "async_scheduling"
    model2 = model_helper.ModelHelper("test_new")
    model2.ConstructInitTrainNetfromNet(net)
    assert model2.net.Proto().type == "async_scheduling"
    assert model2.param_init_net.Proto().type == "async_scheduling"


def test_get_complete_net():
    model = _conv_model()
    net = model.GetCompleteNet()
    model2 = model_helper.ModelHelper("test_new")
    model2.ConstructInitTrainNetfromNet(net)
    pairs = list(zip(model.param_init_net.Proto().op, model2.param_init_net.Proto().op))
    assert len(pairs) == len(model.param_init_net.Proto().op)
    for op1, op2 in pairs:
        op1.debug_info = op1.debug_info + "/param_init_net"
        assert op1 == op2
    for op1, op2 in zip(model.net.Proto().op, model2.net.Proto().op):
        assert op1 == op2
    assert sorted(map(str, model.net.external_inputs)) == \
        sorted(map(str, model2.net.external_inputs))


def test_create_param_records_and_reuses():
    model = model_helper.ModelHelper(name="m")
    init = Initializer("ConstantFill", value=3.0)
    w = model.create_param("w", [2, 2], init, tags=ParameterTags.WEIGHT)
    again = model.create_param("w", [2, 2], init)
    assert again is w and len(model.param_init_net.Proto().op) == 1
    with pytest.raises(AssertionError):
        model.create_param("w", [3], init)
    info = model.get_param_info(w)
    assert isinstance(info, ParameterInfo) and info.shape == [2, 2] and info.size == 4
    assert [str(p) for p in model.weights] == ["w"]
    b = model.create_param(core.BlobReference("scoped/b"), [2], init,
                           tags=[ParameterTags.BIAS, ParameterTags.COMPUTED_PARAM])
    assert str(b) == "scoped/b"
    assert model.GetComputedParams() == [b] and model.biases == [b]
    with pytest.raises(TypeError, match="Unsupported type for param_name"):
        model.create_param(3, [1], init)


def _trained_model(**kwargs):
    model = model_helper.ModelHelper(name="t", **kwargs)
    emb = model.create_param("emb", [5, 2], Initializer("ConstantFill", value=0.5))
    x = model.net.Gather([emb, "ids"], "x")
    h = brew.fc(model, x, "fc", 2, 1)
    loss = model.AveragedLoss(model.SquaredL2Distance([h, "y"], "sq"), "loss")
    return model, loss


def test_gradients_and_param_to_grad():
    model, loss = _trained_model()
    with pytest.raises(RuntimeError, match="You need to run AddGradientOperators first."):
        model.get_param_to_grad(model.params)
    with pytest.raises(RuntimeError, match="Need to call AddGradientOperators first"):
        model.GetOptimizationParamInfo()
    grad_map = model.AddGradientOperators([loss])
    assert str(grad_map["fc_w"]) == "fc_w_grad"
    assert isinstance(model.param_to_grad[core.BlobReference("emb")], core.GradientSlice)
    assert [str(i.blob) for i in model.GetOptimizationParamInfo()] == ["emb", "fc_w", "fc_b"]
    assert model.get_param_info(core.BlobReference("fc_w")).grad_type() == "dense"
    assert model.get_param_info(core.BlobReference("emb")).grad_type() == "sparse"
    only = model.GetOptimizationParamInfo([core.BlobReference("fc_b")])
    assert [str(i.blob) for i in only] == ["fc_b"]
    with pytest.raises(RuntimeError, match="You cannot run AddGradientOperators twice."):
        model.AddGradientOperators([loss])


def test_skip_sparse_optim():
    model, loss = _trained_model(skip_sparse_optim=True)
    model.AddGradientOperators([loss])
    assert [str(i.blob) for i in model.GetOptimizationParamInfo()] == ["fc_w", "fc_b"]


def test_params_without_info_get_one_from_the_gradients():
    model = model_helper.ModelHelper(name="legacy")
    w = model.param_init_net.ConstantFill([], "w", shape=[2], value=1.0)
    model.params.append(w)
    loss = model.AveragedLoss(model.net.Mul([w, "x"], "wx"), "loss")
    model.AddGradientOperators([loss])
    info = model.get_param_info(w)
    assert info is not None and str(info.grad) == "w_grad"


def test_ops_through_the_model(caplog):
    model = model_helper.ModelHelper(name="m")
    with caplog.at_level(logging.WARNING):
        model.Sigmoid("x", "s")  # in Caffe2's list of known ops: no warning
        assert not caplog.records
        model.Relu("x", "r")
        assert "does not recognize: Relu" in caplog.text
    assert [op.type for op in model.net.Proto().op] == ["Sigmoid", "Relu"]
    strict = model_helper.ModelHelper(name="s", allow_not_known_ops=False)
    with pytest.raises(AttributeError, match="Operator Relu is not known to be safe"):
        strict.Relu("x", "r")
    with pytest.raises(OperatorAttributeError, match="is not a registered operator"):
        model.NoSuchOperator("x", "y")
    assert "Softmax" in dir(model)
    assert model.Proto() is model.net.Proto()
    assert model.InitProto() is model.param_init_net.Proto()
    assert model.arg_scope["order"] == "NCHW"


def test_extract_predictor_net():
    model = model_helper.ModelHelper(name="train")
    h = brew.fc(model, "data", "fc", 3, 2)
    prob = brew.softmax(model, h, "prob")
    loss = model.AveragedLoss(model.LabelCrossEntropy([prob, "label"], "xent"), "loss") \
        if core.IsOperator("LabelCrossEntropy") else model.AveragedLoss(prob, "loss")
    model.AddGradientOperators([loss])
    predict, params = model_helper.ExtractPredictorNet(model.net.Proto(), ["data"], [prob])
    assert [op.type for op in predict.Proto().op] == ["FC", "Softmax"]
    assert sorted(params) == ["fc_b", "fc_w"]
    workspace.RunNetOnce(model.param_init_net)
    workspace.FeedBlob("data", np.ones((1, 3), np.float32))
    workspace.RunNetOnce(predict)
    assert workspace.FetchBlob("prob").shape == (1, 2)
    with pytest.raises(Exception, match="No ops with input"):
        model_helper.ExtractPredictorNet(model.net.Proto(), ["nothing"], [prob])
