"""Activations: relu, prelu, tanh, sigmoid."""

from __future__ import annotations

from typing import Any

from caffe2lite.builder.operator import ScopedBlobReference


def prelu(model: Any, blob_in: Any, blob_out: Any, num_channels: int = 1,
          slope_init: Any = None, **kwargs: Any) -> Any:
    """PRelu with a trained slope ``<blob_out>_slope`` of ``num_channels`` (0.25)."""
    slope_init = slope_init if slope_init else ("ConstantFill", {"value": 0.25})
    if model.init_params:
        slope = model.param_init_net.__getattr__(slope_init[0])(
            [], blob_out + "_slope", shape=[num_channels], **slope_init[1])
    else:
        slope = ScopedBlobReference(blob_out + "_slope", model.param_init_net)
    model.AddParameter(slope)
    return model.net.PRelu([blob_in, slope], [blob_out])


def relu(model: Any, blob_in: Any, blob_out: Any, use_cudnn: bool = False,
         order: str = "NCHW", **kwargs: Any) -> Any:
    """Relu (``order`` is passed on as Caffe2 did; Relu ignores it)."""
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
    return model.net.Relu(blob_in, blob_out, order=order, **kwargs)


def tanh(model: Any, blob_in: Any, blob_out: Any, use_cudnn: bool = False,
         order: str = "NCHW", **kwargs: Any) -> Any:
    """Tanh."""
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
    return model.net.Tanh(blob_in, blob_out, order=order, **kwargs)


def sigmoid(model: Any, blob_in: Any, blob_out: Any, use_cudnn: bool = False,
            **kwargs: Any) -> Any:
    """Sigmoid (a caffe2lite helper in the style of tanh; Caffe2's brew had none)."""
    if use_cudnn:
        kwargs["engine"] = "CUDNN"
    return model.net.Sigmoid(blob_in, blob_out, **kwargs)
