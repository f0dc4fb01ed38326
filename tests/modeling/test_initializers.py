"""Initializers and ParameterInfo (Caffe2's modeling/initializers_test)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import brew, core, model_helper, workspace
from caffe2lite.modeling import initializers
from caffe2lite.modeling.initializers import (
    ExternalInitializer,
    Initializer,
    PseudoFP16Initializer,
    ReversePseudoFP16Initializer,
    update_initializer,
)
from caffe2lite.modeling.parameter_info import ParameterInfo


def _fc(initializer_class=None, **kwargs):
    model = model_helper.ModelHelper(name="m")
    brew.fc(model, "data", "fc", 4, 3, WeightInitializer=initializer_class,
            BiasInitializer=initializer_class, **kwargs)
    return model


def test_default_initializers_are_xavier_and_constant():
    model = _fc()
    assert [op.type for op in model.param_init_net.Proto().op] == ["XavierFill",
                                                                  "ConstantFill"]


def test_custom_ops_and_class():
    model = _fc(Initializer, weight_init=("GaussianFill", {"std": 0.5}),
                bias_init=("ConstantFill", {"value": 2.0}))
    ops = model.param_init_net.Proto().op
    assert [op.type for op in ops] == ["GaussianFill", "ConstantFill"]
    assert {a.name: a.f for a in ops[0].arg}["std"] == 0.5


def test_external_initializer_adds_no_op():
    ext = ExternalInitializer()
    model = model_helper.ModelHelper(name="m")
    p = model.create_param("w", [2], ext)
    assert str(p) == "w" and len(model.param_init_net.Proto().op) == 0
    with pytest.raises(TypeError, match="Unsupported type for param_name"):
        ext.create_param(1, model.param_init_net, [1])


@pytest.mark.skipif(not core.IsOperator("FloatToHalf"), reason="FloatToHalf not registered")
def test_pseudo_fp16_initializers():
    model = _fc(PseudoFP16Initializer)
    ops = model.param_init_net.Proto().op
    assert [(op.type, list(op.output)) for op in ops] == [
        ("XavierFill", ["fc_w_fp32"]), ("FloatToHalf", ["fc_w"]),
        ("ConstantFill", ["fc_b_fp32"]), ("FloatToHalf", ["fc_b"])]
    info = model.get_param_info(core.BlobReference("fc_w"))
    assert str(info.blob_copy[core.DataType.FLOAT]) == "fc_w_fp32"
    workspace.RunNetOnce(model.param_init_net)
    assert workspace.FetchBlob("fc_w").dtype == np.float16
    model = _fc(ReversePseudoFP16Initializer)
    info = model.get_param_info(core.BlobReference("fc_w"))
    assert str(info.blob) == "fc_w"
    assert str(info.blob_copy[core.DataType.FLOAT16]) == "fc_w_fp16"


def test_update_initializer_and_overwrite():
    init = update_initializer(None, None, ("ConstantFill", {"value": 1.0}))
    assert (init.operator_name, init.operator_kwargs) == ("ConstantFill", {"value": 1.0})
    init = update_initializer(Initializer, ("XavierFill", {}), ("ConstantFill", {}))
    assert init.operator_name == "XavierFill"
    with pytest.raises(Exception, match="Operator name overwrites are not allowed"):
        init.update("GaussianFill", {})
    blank = Initializer()
    blank.update("MSRAFill", {})
    assert blank.operator_name == "MSRAFill"
    assert initializers.create_xavier_fill_initializer().operator_name == "XavierFill"
    assert initializers.create_constant_fill_initializer(2.0).operator_kwargs == {
        "value": 2.0}


def test_parameter_info():
    info = ParameterInfo(param_id=0, param=core.BlobReference("w"), shape=[2, 3])
    assert (str(info), info.name, info.size, info.length, info.grad_type()) == (
        "w", "w", 6, 1, None)
    info.grad = core.GradientSlice(core.BlobReference("i"), core.BlobReference("v"))
    assert info.grad_type() == "sparse"
    info.optimizer = "sgd"
    with pytest.raises(AssertionError, match="optimizer has already been set"):
        info.optimizer = "adam"
    assert info.parameter is info.blob
    with pytest.raises(AssertionError):
        ParameterInfo(param_id=0, param="not a reference")
