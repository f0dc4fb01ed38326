"""Convolution helpers: conv, conv_nd, group_conv, conv_transpose."""

from __future__ import annotations

from typing import Any

from caffe2lite.builder.operator import ScopedBlobReference
from caffe2lite.modeling import initializers
from caffe2lite.modeling.parameter_info import ParameterTags


def _ConvBase(model: Any, is_nd: bool, blob_in: Any, blob_out: Any, dim_in: int,
              dim_out: int, kernel: Any, weight_init: Any = None, bias_init: Any = None,
              WeightInitializer: Any = None, BiasInitializer: Any = None, group: int = 1,
              transform_inputs: Any = None, use_cudnn: bool = False, order: str = "NCHW",
              cudnn_exhaustive_search: bool = False, ws_nbytes_limit: Any = None,
              float16_compute: bool = False, **kwargs: Any) -> Any:
    if is_nd:
        kernels = kernel if isinstance(kernel, list) else [kernel]
    elif isinstance(kernel, list):
        assert len(kernel) == 2, "Conv support only a 2D kernel."
        kernels = kernel
    else:
        kernels = [kernel] * 2
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
        kwargs["exhaustive_search"] = cudnn_exhaustive_search
        if ws_nbytes_limit:
            kwargs["ws_nbytes_limit"] = ws_nbytes_limit
    use_bias = not kwargs.get("no_bias", False)
    blob_out = blob_out or model.net.NextName()
    weight_shape = [dim_out]
    if order == "NCHW":
        weight_shape.append(int(dim_in / group))
        weight_shape.extend(kernels)
    else:
        weight_shape.extend(kernels)
        weight_shape.append(int(dim_in / group))
    WeightInitializer = initializers.update_initializer(
        WeightInitializer, weight_init, ("XavierFill", {}))
    BiasInitializer = initializers.update_initializer(
        BiasInitializer, bias_init, ("ConstantFill", {}))
    if not model.init_params:
        WeightInitializer = initializers.ExternalInitializer()
        BiasInitializer = initializers.ExternalInitializer()
    weight = model.create_param(param_name=blob_out + "_w", shape=weight_shape,
                                initializer=WeightInitializer, tags=ParameterTags.WEIGHT)
    inputs = [blob_in, weight]
    if use_bias:
        bias = model.create_param(param_name=blob_out + "_b", shape=[dim_out],
                                  initializer=BiasInitializer, tags=ParameterTags.BIAS)
        inputs.append(bias)
    if transform_inputs is not None:
        transform_inputs(model, blob_out, inputs)
    if float16_compute:
        kwargs["float16_compute"] = True
    kwargs.pop("no_bias", None)
    if group != 1:
        kwargs["group"] = group
    if is_nd:
        return model.net.Conv(inputs, blob_out, kernels=kernels, order=order, **kwargs)
    if isinstance(kernel, list):
        return model.net.Conv(inputs, blob_out, kernel_h=kernel[0], kernel_w=kernel[1],
                              order=order, **kwargs)
    return model.net.Conv(inputs, blob_out, kernel=kernel, order=order, **kwargs)


def conv_nd(model: Any, blob_in: Any, blob_out: Any, dim_in: int, dim_out: int,
            kernel: Any, weight_init: Any = None, bias_init: Any = None,
            WeightInitializer: Any = None, BiasInitializer: Any = None, group: int = 1,
            transform_inputs: Any = None, order: str = "NCHW", **kwargs: Any) -> Any:
    """N-dimensional convolution (NCHW only), ``kernels`` from ``kernel``."""
    assert order == "NCHW", "ConvNd only supported for NCHW storage."
    return _ConvBase(model, True, blob_in, blob_out, dim_in, dim_out, kernel, weight_init,
                     bias_init, WeightInitializer, BiasInitializer, group,
                     transform_inputs, order=order, **kwargs)


def conv(model: Any, blob_in: Any, blob_out: Any, dim_in: int, dim_out: int, kernel: Any,
         weight_init: Any = None, bias_init: Any = None, WeightInitializer: Any = None,
         BiasInitializer: Any = None, group: int = 1, transform_inputs: Any = None,
         **kwargs: Any) -> Any:
    """2-D convolution: weight ``[dim_out, dim_in / group, k, k]`` (NCHW; XavierFill)
    and bias ``[dim_out]`` (ConstantFill 0; none with ``no_bias``)."""
    return _ConvBase(model, False, blob_in, blob_out, dim_in, dim_out, kernel, weight_init,
                     bias_init, WeightInitializer, BiasInitializer, group,
                     transform_inputs, **kwargs)


def group_conv(model: Any, blob_in: Any, blob_out: Any, dim_in: int, dim_out: int,
               kernel: Any, weight_init: Any = None, bias_init: Any = None,
               group: int = 1, **kwargs: Any) -> Any:
    """conv with a ``group`` argument."""
    return conv(model, blob_in, blob_out, dim_in, dim_out, kernel,
                weight_init=weight_init, bias_init=bias_init, group=group, **kwargs)


def conv_transpose(model: Any, blob_in: Any, blob_out: Any, dim_in: int, dim_out: int,
                   kernel: int, weight_init: Any = None, bias_init: Any = None,
                   use_cudnn: bool = False, order: str = "NCHW",
                   cudnn_exhaustive_search: bool = False, ws_nbytes_limit: Any = None,
                   **kwargs: Any) -> Any:
    """ConvTranspose with weight ``[dim_in, dim_out, k, k]`` (NCHW) and bias."""
    weight_init = weight_init if weight_init else ("XavierFill", {})
    bias_init = bias_init if bias_init else ("ConstantFill", {})
    blob_out = blob_out or model.net.NextName()
    weight_shape = ([dim_in, dim_out, kernel, kernel] if order == "NCHW"
                    else [dim_in, kernel, kernel, dim_out])
    if model.init_params:
        weight = model.param_init_net.__getattr__(weight_init[0])(
            [], blob_out + "_w", shape=weight_shape, **weight_init[1])
        bias = model.param_init_net.__getattr__(bias_init[0])(
            [], blob_out + "_b", shape=[dim_out], **bias_init[1])
    else:
        weight = ScopedBlobReference(blob_out + "_w", model.param_init_net)
        bias = ScopedBlobReference(blob_out + "_b", model.param_init_net)
    model.AddParameter(weight, ParameterTags.WEIGHT)
    model.AddParameter(bias, ParameterTags.BIAS)
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
        kwargs["exhaustive_search"] = cudnn_exhaustive_search
        if ws_nbytes_limit:
            kwargs["ws_nbytes_limit"] = ws_nbytes_limit
    return model.net.ConvTranspose([blob_in, weight, bias], blob_out, kernel=kernel,
                                   order=order, **kwargs)


def group_conv_deprecated(model: Any, blob_in: Any, blob_out: str, dim_in: int,
                          dim_out: int, kernel: int, weight_init: Any = None,
                          bias_init: Any = None, group: int = 1, use_cudnn: bool = False,
                          order: str = "NCHW", cudnn_exhaustive_search: bool = False,
                          ws_nbytes_limit: Any = None, **kwargs: Any) -> Any:
    """The old group convolution: DepthSplit the channels into ``group`` parts, one
    Conv per part (weights ``<blob_out>_gconv_<i>_w`` / ``_b``), Concat the results
    into ``blob_out`` (and ``_<blob_out>_concat_dims``)."""
    weight_init = weight_init if weight_init else ("XavierFill", {})
    bias_init = bias_init if bias_init else ("ConstantFill", {})
    use_bias = not kwargs.pop("no_bias", False)
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
        kwargs["exhaustive_search"] = cudnn_exhaustive_search
        if ws_nbytes_limit:
            kwargs["ws_nbytes_limit"] = ws_nbytes_limit
    if dim_in % group:
        raise ValueError("dim_in should be divisible by group.")
    if dim_out % group:
        raise ValueError("dim_out should be divisible by group.")
    parts = model.net.DepthSplit(
        blob_in, [f"_{blob_out}_gconv_split_{i}" for i in range(group)],
        dimensions=[dim_in // group] * group, order=order)
    per_in, per_out = dim_in // group, dim_out // group
    shape = ([per_out, per_in, kernel, kernel] if order == "NCHW"
             else [per_out, kernel, kernel, per_in])
    outputs = []
    for i in range(group):
        if model.init_params:
            weight = model.param_init_net.__getattr__(weight_init[0])(
                [], f"{blob_out}_gconv_{i}_w", shape=shape, **weight_init[1])
            bias = model.param_init_net.__getattr__(bias_init[0])(
                [], f"{blob_out}_gconv_{i}_b", shape=[per_out], **bias_init[1]) \
                if use_bias else None
        else:
            weight = ScopedBlobReference(f"{blob_out}_gconv_{i}_w", model.param_init_net)
            bias = ScopedBlobReference(f"{blob_out}_gconv_{i}_b", model.param_init_net) \
                if use_bias else None
        model.AddParameter(weight, ParameterTags.WEIGHT)
        inputs = [parts[i], weight]
        if bias is not None:
            model.AddParameter(bias, ParameterTags.BIAS)
            inputs.append(bias)
        outputs.append(model.net.Conv(inputs, f"{blob_out}_gconv_{i}", kernel=kernel,
                                      order=order, **kwargs))
    concat, _ = model.net.Concat(outputs, [blob_out, f"_{blob_out}_concat_dims"], order=order)
    return concat
