"""Normalisation helpers: softmax, lrn, spatial_bn, instance_norm, layer_norm."""

from __future__ import annotations

from typing import Any

from caffe2lite import scope
from caffe2lite.modeling import initializers
from caffe2lite.modeling.parameter_info import ParameterTags
from caffe2lite.proto import caffe2_pb2


def lrn(model: Any, blob_in: Any, blob_out: Any, order: str = "NCHW",
        use_cudnn: bool = False, **kwargs: Any) -> Any:
    """LRN; on CPU into ``[blob_out, _<blob_out>_scale]``, returning blob_out."""
    dev = kwargs["device_option"] if "device_option" in kwargs \
        else scope.CurrentDeviceScope()
    is_cpu = dev is None or dev.device_type == caffe2_pb2.CPU
    if use_cudnn and not is_cpu:
        kwargs["engine"] = "CUDNN"
        blobs_out = blob_out
    else:
        blobs_out = [blob_out, "_" + blob_out + "_scale"]
    out = model.net.LRN(blob_in, blobs_out, order=order, **kwargs)
    return out if use_cudnn and not is_cpu else out[0]


def softmax(model: Any, blob_in: Any, blob_out: Any = None, use_cudnn: bool = False,
            **kwargs: Any) -> Any:
    """Softmax."""
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
    if blob_out is not None:
        return model.net.Softmax(blob_in, blob_out, **kwargs)
    return model.net.Softmax(blob_in, **kwargs)


def instance_norm(model: Any, blob_in: Any, blob_out: Any, dim_in: int,
                  order: str = "NCHW", **kwargs: Any) -> Any:
    """InstanceNorm with scale ``_s`` (1) and bias ``_b`` (0) of ``[dim_in]``."""
    blob_out = blob_out or model.net.NextName()

    def init_blob(value: float, suffix: str) -> Any:
        return model.param_init_net.ConstantFill(
            [], blob_out + "_" + suffix, shape=[dim_in], value=value)

    scale, bias = init_blob(1.0, "s"), init_blob(0.0, "b")
    model.AddParameter(scale, ParameterTags.WEIGHT)
    model.AddParameter(bias, ParameterTags.BIAS)
    blob_outs = [blob_out, blob_out + "_sm", blob_out + "_siv"]
    if kwargs.get("is_test"):
        return model.net.InstanceNorm([blob_in, scale, bias], [blob_out], order=order,
                                      **kwargs)
    return model.net.InstanceNorm([blob_in, scale, bias], blob_outs, order=order,
                                  **kwargs)[0]


def _scale_and_bias(model: Any, blob_out: Any, dim_in: int, init_scale: float,
                    init_bias: float, scale_init: Any, bias_init: Any) -> tuple:
    """The trained ``<blob_out>_s`` (init_scale) and ``<blob_out>_b`` (init_bias) of a
    normalisation, ``[dim_in]`` each; external when the model does not init params."""
    if model.init_params:
        scale_init = initializers.update_initializer(
            scale_init, ("ConstantFill", {"value": init_scale}), ("ConstantFill", {}))
        bias_init = initializers.update_initializer(
            bias_init, ("ConstantFill", {"value": init_bias}), ("ConstantFill", {}))
    else:
        scale_init = initializers.ExternalInitializer()
        bias_init = initializers.ExternalInitializer()
    scale = model.create_param(param_name=blob_out + "_s", shape=[dim_in],
                               initializer=scale_init, tags=ParameterTags.WEIGHT)
    bias = model.create_param(param_name=blob_out + "_b", shape=[dim_in],
                              initializer=bias_init, tags=ParameterTags.BIAS)
    return scale, bias


def spatial_bn(model: Any, blob_in: Any, blob_out: Any, dim_in: int,
               init_scale: float = 1.0, init_bias: float = 0.0,
               ScaleInitializer: Any = None, BiasInitializer: Any = None,
               RunningMeanInitializer: Any = None, RunningVarianceInitializer: Any = None,
               order: str = "NCHW", **kwargs: Any) -> Any:
    """SpatialBN with trained scale ``_s`` and bias ``_b`` and computed running mean
    ``_rm`` (0) and inverse variance ``_riv`` (1), each ``[dim_in]``. In training the
    outputs are ``[blob_out, _rm, _riv, <blob_out>_sm, <blob_out>_siv]``."""
    blob_out = blob_out or model.net.NextName()
    scale, bias = _scale_and_bias(model, blob_out, dim_in, init_scale, init_bias,
                                  ScaleInitializer, BiasInitializer)
    if model.init_params:
        RunningMeanInitializer = initializers.update_initializer(
            RunningMeanInitializer, ("ConstantFill", {"value": 0.0}), ("ConstantFill", {}))
        RunningVarianceInitializer = initializers.update_initializer(
            RunningVarianceInitializer, ("ConstantFill", {"value": 1.0}),
            ("ConstantFill", {}))
    else:
        RunningMeanInitializer = initializers.ExternalInitializer()
        RunningVarianceInitializer = initializers.ExternalInitializer()
    running_mean = model.create_param(param_name=blob_out + "_rm", shape=[dim_in],
                                      initializer=RunningMeanInitializer,
                                      tags=ParameterTags.COMPUTED_PARAM)
    running_inv_var = model.create_param(param_name=blob_out + "_riv", shape=[dim_in],
                                         initializer=RunningVarianceInitializer,
                                         tags=ParameterTags.COMPUTED_PARAM)
    blob_outs = [blob_out, running_mean, running_inv_var, blob_out + "_sm",
                 blob_out + "_siv"]
    inputs = [blob_in, scale, bias, blob_outs[1], blob_outs[2]]
    if kwargs.get("is_test"):
        return model.net.SpatialBN(inputs, [blob_out], order=order, **kwargs)
    return model.net.SpatialBN(inputs, blob_outs, order=order, **kwargs)[0]


def spatial_gn(model: Any, blob_in: Any, blob_out: Any, dim_in: int,
               init_scale: float = 1.0, init_bias: float = 0.0,
               ScaleInitializer: Any = None, BiasInitializer: Any = None,
               RunningMeanInitializer: Any = None, RunningVarianceInitializer: Any = None,
               order: str = "NCHW", **kwargs: Any) -> Any:
    """GroupNorm (https://arxiv.org/abs/1803.08494; ``group``, ``epsilon`` as keyword
    arguments) with a trained scale ``_s`` (``init_scale``) and bias ``_b``
    (``init_bias``) of ``[dim_in]``, into ``[blob_out, <blob_out>_mean,
    <blob_out>_std]``; returns ``blob_out``. (The running-statistics initializers are
    accepted and unused, as in Caffe2: GroupNorm keeps none. ``order`` goes to the op;
    Caffe2 dropped it.)"""
    blob_out = blob_out or model.net.NextName()
    scale, bias = _scale_and_bias(model, blob_out, dim_in, init_scale, init_bias,
                                  ScaleInitializer, BiasInitializer)
    outputs = model.net.GroupNorm([blob_in, scale, bias],
                                  [blob_out, blob_out + "_mean", blob_out + "_std"],
                                  order=order, **kwargs)
    return outputs[0]


def layer_norm(model: Any, blob_in: Any, blob_out: Any, dim_in: Any, axis: int = 1,
               epsilon: float = 1e-4, initial_scale: float = 1.0,
               initial_bias: float = 0.0) -> tuple:
    """LayerNorm (z-scores over the dims from ``axis``) into ``[blob_out,
    <blob_out>_mean, <blob_out>_std]``, then a trained scale ``<blob_out>_scale`` and
    bias ``<blob_out>_bias`` of ``dim_in`` applied with broadcasting Mul and Add.
    Returns ``(biased, mean, std)``."""
    normalized, mean, std = model.net.LayerNorm(
        [blob_in], [blob_out, blob_out + "_mean", blob_out + "_std"],
        axis=axis, epsilon=epsilon)
    shape = [dim_in] if isinstance(dim_in, int) else dim_in
    scale = model.create_param(
        param_name=f"{blob_out}_scale", shape=shape,
        initializer=initializers.Initializer("ConstantFill", value=initial_scale),
        tags=ParameterTags.WEIGHT)
    bias = model.create_param(
        param_name=f"{blob_out}_bias", shape=shape,
        initializer=initializers.Initializer("ConstantFill", value=initial_bias),
        tags=ParameterTags.BIAS)
    scaled = model.net.Mul([normalized, scale], [f"{blob_out}_scaled"], broadcast=1,
                           axis=axis)
    biased = model.net.Add([scaled, bias], [f"{blob_out}_biased"], broadcast=1, axis=axis)
    return biased, mean, std
