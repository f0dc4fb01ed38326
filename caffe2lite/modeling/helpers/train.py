"""Training helpers: iter, accuracy, add_weight_decay."""

from __future__ import annotations

from typing import Any

from caffe2lite import scope
from caffe2lite.builder.operator import DataType, DeviceOption
from caffe2lite.proto import caffe2_pb2


def _get_weights(model: Any, namescope: str | None = None) -> list:
    if namescope is None:
        namescope = scope.CurrentNameScope()
    if namescope == "":
        return model.weights[:]
    return [w for w in model.weights if w.GetNameScope() == namescope]


def iter(model: Any, blob_out: Any, **kwargs: Any) -> Any:
    """An int64 counter: ConstantFill 0 on CPU in param_init_net, Iter in net."""
    kwargs.pop("device_option", None)
    model.param_init_net.ConstantFill(
        [], blob_out, shape=[1], value=0, dtype=DataType.INT64,
        device_option=DeviceOption(caffe2_pb2.CPU, 0), **kwargs)
    return model.net.Iter(blob_out, blob_out, **kwargs)


def accuracy(model: Any, blob_in: Any, blob_out: Any, **kwargs: Any) -> Any:
    """Accuracy of ``[prediction, label]``."""
    dev = kwargs["device_option"] if "device_option" in kwargs \
        else scope.CurrentDeviceScope()
    is_cpu = dev is None or dev.device_type == caffe2_pb2.CPU
    if not is_cpu and "top_k" in kwargs and kwargs["top_k"] > 1:
        pred_host = model.net.CopyGPUToCPU(blob_in[0], blob_in[0] + "_host")
        label_host = model.net.CopyGPUToCPU(blob_in[1], blob_in[1] + "_host")
        return model.net.Accuracy([pred_host, label_host], blob_out,
                                  device_option=DeviceOption(caffe2_pb2.CPU, 0), **kwargs)
    return model.net.Accuracy(blob_in, blob_out, **kwargs)


def add_weight_decay(model: Any, weight_decay: float) -> None:
    """L2 regularisation: ``grad += weight_decay * param`` for every weight of the
    current name scope, with WeightedSum (blobs ``wd`` and ``ONE``); call it after
    AddGradientOperators. Nothing is added for weight_decay <= 0."""
    if weight_decay <= 0.0:
        return
    wd = model.param_init_net.ConstantFill([], "wd", shape=[1], value=weight_decay)
    ONE = model.param_init_net.ConstantFill([], "ONE", shape=[1], value=1.0)
    for param in _get_weights(model):
        grad = model.param_to_grad[param]
        model.net.WeightedSum([grad, ONE, param, wd], grad)
