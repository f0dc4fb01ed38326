"""Fully connected layers: ``brew.fc`` (and packed_fc, fc_decomp)."""

from __future__ import annotations

from typing import Any

from caffe2lite.modeling import initializers
from caffe2lite.modeling.parameter_info import ParameterTags


def _FC_or_packed_FC(model: Any, op_call: Any, blob_in: Any, blob_out: Any, dim_in: int,
                     dim_out: int, weight_init: Any = None, bias_init: Any = None,
                     WeightInitializer: Any = None, BiasInitializer: Any = None,
                     enable_tensor_core: bool = False, float16_compute: bool = False,
                     **kwargs: Any) -> Any:
    WeightInitializer = initializers.update_initializer(
        WeightInitializer, weight_init, ("XavierFill", {}))
    BiasInitializer = initializers.update_initializer(
        BiasInitializer, bias_init, ("ConstantFill", {}))
    if not model.init_params:
        WeightInitializer = initializers.ExternalInitializer()
        BiasInitializer = initializers.ExternalInitializer()
    blob_out = blob_out or model.net.NextName()
    bias_tags = [ParameterTags.BIAS]
    if "freeze_bias" in kwargs:
        bias_tags.append(ParameterTags.COMPUTED_PARAM)
    weight = model.create_param(param_name=blob_out + "_w", shape=[dim_out, dim_in],
                                initializer=WeightInitializer, tags=ParameterTags.WEIGHT)
    bias = model.create_param(param_name=blob_out + "_b", shape=[dim_out],
                              initializer=BiasInitializer, tags=bias_tags)
    if enable_tensor_core:
        kwargs["engine"] = "TENSORCORE"
    if float16_compute:
        kwargs["float16_compute"] = True
    return op_call([blob_in, weight, bias], blob_out, **kwargs)


def fc(model: Any, *args: Any, **kwargs: Any) -> Any:
    """``FC([blob_in, <blob_out>_w, <blob_out>_b], blob_out)`` with the weight
    ``[dim_out, dim_in]`` (XavierFill by default) and the bias ``[dim_out]``
    (ConstantFill 0 by default) created as parameters.

    Arguments: ``(model, blob_in, blob_out, dim_in, dim_out, weight_init=None,
    bias_init=None, WeightInitializer=None, BiasInitializer=None, **kwargs)``;
    ``weight_init`` / ``bias_init`` are ``(op_type, kwargs)`` pairs, ``freeze_bias``
    makes the bias a computed (untrained) parameter."""
    return _FC_or_packed_FC(model, model.net.FC, *args, **kwargs)


def packed_fc(model: Any, *args: Any, **kwargs: Any) -> Any:
    return _FC_or_packed_FC(model, model.net.PackedFC, *args, **kwargs)


def fc_decomp(model: Any, blob_in: Any, blob_out: Any, dim_in: int, dim_out: int,
              rank_approx: int = 5, weight_init: Any = None, bias_init: Any = None,
              WeightInitializer: Any = None, BiasInitializer: Any = None,
              **kwargs: Any) -> Any:
    """FC_Decomp with factors ``u [dim_out, rank]`` and ``v [dim_in, rank]``."""
    WeightInitializer = initializers.update_initializer(
        WeightInitializer, weight_init, ("XavierFill", {}))
    BiasInitializer = initializers.update_initializer(
        BiasInitializer, bias_init, ("ConstantFill", {}))
    blob_out = blob_out or model.net.NextName()
    u = model.create_param(param_name=blob_out + "_u", shape=[dim_out, rank_approx],
                           initializer=WeightInitializer)
    v = model.create_param(param_name=blob_out + "_v", shape=[dim_in, rank_approx],
                           initializer=WeightInitializer)
    bias = model.create_param(param_name=blob_out + "_b", shape=[dim_out],
                              initializer=BiasInitializer)
    return model.net.FC_Decomp([blob_in, u, v, bias], blob_out, **kwargs)
