"""Cross-device copies (Caffe2's ``InjectCrossDeviceCopies`` and friends) on a
CPU-only runtime.

Caffe2 inserted ``CopyCPUToGPU`` / ``CopyGPUToCPU`` ops where a blob made on one
device is read on another. Every caffe2lite device is the CPU, so there is never a
copy to insert: these functions return the nets with their ops unchanged and the
device of every blob, and refuse nets that ask for a GPU (they could not run here).
"""

from __future__ import annotations

from typing import Any, Sequence

from caffe2lite.errors import ApiValueError
from caffe2lite.proto import caffe2_pb2

_GPU_TYPES = (caffe2_pb2.CUDA, caffe2_pb2.HIP)


def _option(op: caffe2_pb2.OperatorDef) -> caffe2_pb2.DeviceOption:
    return op.device_option if op.HasField("device_option") else caffe2_pb2.DeviceOption()


def _refuse_gpu(what: str, option: caffe2_pb2.DeviceOption) -> None:
    if option.device_type in _GPU_TYPES:
        raise ApiValueError(
            f"{what} is placed on a GPU device (type {option.device_type}); caffe2lite "
            "runs on the CPU only, so no cross-device copy can be made",
            expected="CPU device options", found=f"device_type {option.device_type}")


def InjectCrossDeviceCopies(net: Any, blob_to_device: dict | None = None,
                            blob_remap: dict | None = None,
                            placeHolderOps: Sequence[str] | None = None) -> tuple[Any, dict]:
    """``(net named <name>_cross_device with the same ops, {blob: DeviceOption})``."""
    blob_to_device = dict(blob_to_device or {})
    for blob, option in blob_to_device.items():
        _refuse_gpu(f"blob {blob}", option)
    new_net = net.Clone(net.Name() + "_cross_device", keep_schema=True)
    for index, op in enumerate(new_net.Proto().op):
        option = _option(op)
        _refuse_gpu(f"op #{index} {op.type}", option)
        for blob in list(op.input) + list(op.output):
            blob_to_device[blob] = option
    return new_net, blob_to_device


def InjectDeviceCopiesAmongNets(nets: Sequence[Any],
                                blob_to_device_init: dict | None = None) -> tuple[list, dict]:
    """Each net through :func:`InjectCrossDeviceCopies`, the blob devices carried on."""
    blob_to_device = dict(blob_to_device_init or {})
    new_nets = []
    for net in nets:
        new_net, blob_to_device = InjectCrossDeviceCopies(net, blob_to_device)
        new_nets.append(new_net)
    return new_nets, blob_to_device


def InjectDeviceCopiesAmongNetsWithoutB2D(nets: Sequence[Any],
                                          blob_to_device_init: dict | None = None) -> list:
    return InjectDeviceCopiesAmongNets(nets, blob_to_device_init)[0]
