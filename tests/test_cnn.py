"""cnn.CNNModelHelper (older Caffe2 scripts): each method builds what the brew helper
builds on a ModelHelper with the same arg_scope; a LeNet trains; missing operators are
named; brew.spatial_gn against numpy."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import brew, cnn, model_helper, workspace
from caffe2lite.errors import UnknownOperatorError


def lenet_cnn(model):
    conv1 = model.Conv("data", "conv1", 1, 4, 3, weight_init=model.MSRAInit)
    pool1 = model.MaxPool(conv1, "pool1", kernel=2, stride=2)
    relu = model.Relu(pool1, "relu1")
    fc = model.FC(relu, "fc", 4 * 3 * 3, 10, weight_init=model.XavierInit,
                  bias_init=model.ConstantInit(0.1))
    softmax = model.Softmax(fc, "softmax")
    model.Accuracy([softmax, "label"], "accuracy")
    return softmax


def lenet_brew(model):
    conv1 = brew.conv(model, "data", "conv1", 1, 4, 3, weight_init=("MSRAFill", {}))
    pool1 = brew.max_pool(model, conv1, "pool1", kernel=2, stride=2)
    relu = brew.relu(model, pool1, "relu1")
    fc = brew.fc(model, relu, "fc", 4 * 3 * 3, 10, weight_init=("XavierFill", {}),
                 bias_init=("ConstantFill", {"value": 0.1}))
    softmax = brew.softmax(model, fc, "softmax")
    brew.accuracy(model, [softmax, "label"], "accuracy")
    return softmax


def test_cnn_model_helper_builds_what_brew_builds():
    old = cnn.CNNModelHelper(order="NCHW", name="lenet")
    lenet_cnn(old)
    new = model_helper.ModelHelper(name="lenet", arg_scope={
        "order": "NCHW", "use_cudnn": True, "cudnn_exhaustive_search": False})
    lenet_brew(new)
    for a, b in ((old.net, new.net), (old.param_init_net, new.param_init_net)):
        assert [(op.type, list(op.input), list(op.output)) for op in a.Proto().op] == \
            [(op.type, list(op.input), list(op.output)) for op in b.Proto().op]
    assert [str(p) for p in old.params] == ["conv1_w", "conv1_b", "fc_w", "fc_b"]
    assert old.order == "NCHW" and old.CPU.device_type == 0


def test_a_lenet_trains():
    workspace.ResetWorkspace()
    model = cnn.CNNModelHelper(name="lenet_train")
    softmax = lenet_cnn(model)
    xent = model.net.LabelCrossEntropy([softmax, "label"], "xent")
    loss = model.net.AveragedLoss(xent, "loss")
    model.AddGradientOperators([loss])
    model.AddWeightDecay(1e-4)
    rng = np.random.default_rng(0)
    workspace.FeedBlob("data", rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
    workspace.FeedBlob("label", np.array([1, 2, 3, 4], np.int32))
    workspace.RunNetOnce(model.param_init_net)
    workspace.RunNetOnce(model.net)
    assert workspace.FetchBlob("fc_w_grad").shape == (10, 36)
    assert 0 <= float(workspace.FetchBlob("accuracy")) <= 1
    workspace.ResetWorkspace()


def test_bad_order_and_missing_operators():
    with pytest.raises(ValueError, match="Cannot understand the CNN storage order NCWH"):
        cnn.CNNModelHelper(order="NCWH")
    model = cnn.CNNModelHelper()
    with pytest.raises(UnknownOperatorError, match="needs the operator MaxPoolWithIndex"):
        model.MaxPoolWithIndex("x", "y", kernel=2)
    with pytest.raises(UnknownOperatorError, match="needs the operator FC_Sparse"):
        model.FC_Sparse("x", "y", 4, 4)
    padded = model.PadImage("x", "x_padded", pad=1, mode="edge")
    op = model.net.Proto().op[-1]
    assert (op.type, str(padded)) == ("PadImage", "x_padded")
    assert {a.name: a.s for a in op.arg if a.name in ("order", "mode")} == {
        "order": b"NCHW", "mode": b"edge"}


def test_spatial_gn_matches_numpy():
    workspace.ResetWorkspace()
    model = cnn.CNNModelHelper(name="gn")
    out = model.SpatialGN("x", "gn", 4, group=2, epsilon=1e-5, init_scale=2.0)
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 3)).astype(np.float32)
    workspace.FeedBlob("x", x)
    workspace.RunNetOnce(model.param_init_net)
    workspace.RunNetOnce(model.net)
    g = x.reshape(2, 2, -1).astype(np.float64)
    ref = 2 * (g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(workspace.FetchBlob(out), ref.reshape(x.shape), rtol=1e-5,
                               atol=1e-5)
    assert [str(p) for p in model.params] == ["gn_s", "gn_b"]
    assert [op.type for op in model.net.Proto().op] == ["GroupNorm"]
    workspace.ResetWorkspace()


def test_group_conv_deprecated_equals_a_grouped_conv():
    workspace.ResetWorkspace()
    old = cnn.CNNModelHelper(name="gconv_old")
    old.GroupConv_Deprecated("x", "y", 4, 6, 3, group=2, pad=1)
    assert [op.type for op in old.net.Proto().op] == ["DepthSplit", "Conv", "Conv", "Concat"]
    x = np.random.default_rng(2).standard_normal((2, 4, 5, 5)).astype(np.float32)
    workspace.FeedBlob("x", x)
    workspace.RunNetOnce(old.param_init_net)
    workspace.RunNetOnce(old.net)
    # the same weights as one grouped Conv
    w = np.concatenate([workspace.FetchBlob(f"y_gconv_{i}_w") for i in range(2)])
    b = np.concatenate([workspace.FetchBlob(f"y_gconv_{i}_b") for i in range(2)])
    new = model_helper.ModelHelper(name="gconv_new")
    new.net.Conv(["x", "w", "b"], "z", kernel=3, pad=1, group=2)
    workspace.FeedBlob("w", w)
    workspace.FeedBlob("b", b)
    workspace.RunNetOnce(new.net)
    np.testing.assert_allclose(workspace.FetchBlob("y"), workspace.FetchBlob("z"), rtol=1e-5,
                               atol=1e-5)
    workspace.ResetWorkspace()
