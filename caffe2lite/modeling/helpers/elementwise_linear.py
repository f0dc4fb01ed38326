"""``brew.elementwise_linear``: y = x * w + b per column, w and b trained."""

from __future__ import annotations

from typing import Any

from caffe2lite.builder.operator import ScopedBlobReference
from caffe2lite.modeling.parameter_info import ParameterTags


def _elementwise_linear(model: Any, op_call: Any, blob_in: Any, blob_out: Any, dim: int,
                        weight_init: Any = None, bias_init: Any = None,
                        **kwargs: Any) -> Any:
    weight_init = weight_init or ("ConstantFill", {"value": 1.0})
    bias_init = bias_init or ("ConstantFill", {"value": 0.0})
    blob_out = blob_out or model.net.NextName()
    if model.init_params:
        weight = model.param_init_net.__getattr__(weight_init[0])(
            [], blob_out + "_w", shape=[dim], **weight_init[1])
        bias = model.param_init_net.__getattr__(bias_init[0])(
            [], blob_out + "_b", shape=[dim], **bias_init[1])
    else:
        weight = ScopedBlobReference(blob_out + "_w", model.param_init_net)
        bias = ScopedBlobReference(blob_out + "_b", model.param_init_net)
    model.AddParameter(weight, ParameterTags.WEIGHT)
    model.AddParameter(bias, ParameterTags.BIAS)
    return op_call([blob_in, weight, bias], blob_out, **kwargs)


def elementwise_linear(model: Any, *args: Any, **kwargs: Any) -> Any:
    """ElementwiseLinear with weight ``[dim]`` (1) and bias ``[dim]`` (0)."""
    return _elementwise_linear(model, model.net.ElementwiseLinear, *args, **kwargs)
