"""caffe2lite.models.resnet: Caffe2's ResNet/ResNeXt builders (blob names, parameter
count against the published ResNet-50's 25,557,032), a forward pass and a training
step on small images."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import model_helper, workspace
from caffe2lite.errors import ApiValueError
from caffe2lite.models import resnet


def _param_count(model) -> int:
    params = {str(p) for p in model.params}
    total = 0
    for op in model.param_init_net.Proto().op:
        if op.output[0] in params:
            shape = next(a.ints for a in op.arg if a.name == "shape")
            total += int(np.prod(shape))
    return total


def test_resnet50_has_the_published_parameter_count_and_caffe2s_names():
    model = model_helper.ModelHelper(name="resnet50")
    resnet.create_resnet50(model, "data", 3, 1000, label="label", no_bias=1)
    assert len(model.params) == 161 and _param_count(model) == 25_557_032
    names = [str(p) for p in model.params]
    assert names[:6] == ["conv1_w", "conv1_spatbn_relu_s", "conv1_spatbn_relu_b",
                         "comp_0_conv_1_w", "comp_0_spatbn_1_s", "comp_0_spatbn_1_b"]
    assert "shortcut_projection_0_w" in names and "shortcut_projection_15_w" not in names
    assert names[-2:] == ["last_out_L1000_w", "last_out_L1000_b"]
    ops = model.net.Proto().op
    assert [op.type for op in ops[:5]] == ["Conv", "SpatialBN", "Relu", "MaxPool", "Conv"]
    assert [op.type for op in ops[-3:]] == ["AveragePool", "FC", "SoftmaxWithLoss"]
    with_bias = model_helper.ModelHelper(name="resnet50_bias")
    resnet.create_resnet50(with_bias, "data", 3, 1000)  # Caffe2's default: conv biases
    assert len(with_bias.params) == 161 + 53


def test_resnet50_trains_a_step_on_small_images():
    workspace.ResetWorkspace()
    model = model_helper.ModelHelper(name="resnet50_small")
    softmax, loss = resnet.create_resnet50(model, "data", 3, 10, label="label",
                                           final_avg_kernel=2)
    model.AddGradientOperators([loss])
    rng = np.random.default_rng(0)
    workspace.FeedBlob("data", rng.standard_normal((2, 3, 64, 64)).astype(np.float32))
    workspace.FeedBlob("label", np.array([1, 7], np.int32))
    workspace.RunNetOnce(model.param_init_net)
    workspace.RunNetOnce(model.net)
    probs = workspace.FetchBlob(softmax)
    assert probs.shape == (2, 10)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    assert np.isfinite(workspace.FetchBlob(loss)).all()
    assert workspace.FetchBlob("conv1_w_grad").shape == (64, 3, 7, 7)
    workspace.ResetWorkspace()


def test_resnet_32x32_and_resnext():
    workspace.ResetWorkspace()
    model = model_helper.ModelHelper(name="cifar")
    out = resnet.create_resnet_32x32(model, "data", 3, num_groups=1, num_labels=10)
    workspace.FeedBlob("data", np.ones((2, 3, 32, 32), np.float32))
    workspace.RunNetOnce(model.param_init_net)
    workspace.RunNetOnce(model.net)
    assert workspace.FetchBlob(out).shape == (2, 10)
    resnext = model_helper.ModelHelper(name="resnext")
    last = resnet.create_resnext(resnext, "data", 3, 5, num_layers=101, num_groups=32,
                                 num_width_per_group=4, no_loss=True)
    assert str(last) == "last_out_L5"
    group = next(a.i for op in resnext.net.Proto().op if op.output[0] == "comp_0_conv_2"
                 for a in op.arg if a.name == "group")
    assert group == 32
    with pytest.raises(ApiValueError, match="42-layer is invalid for resnext config"):
        resnet.create_resnext(model_helper.ModelHelper(name="bad"), "data", 3, 5,
                              num_layers=42, num_groups=1, num_width_per_group=64)
    workspace.ResetWorkspace()
