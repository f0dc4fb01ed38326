"""``Parallelize(..., combine_spatial_bn=True)`` on CPU: batch normalisation over the
devices' batches together (Caffe2's _InterleaveOps and
_CPUInterDeviceBatchNormalization).

The training net's ops are first interleaved device by device (op j of every device,
then op j + 1 ...). Then each group of SpatialBN ops (one per device) gets its
statistics from all devices: a ChannelStats per device, the sums added up into
``<first input>_sums_combined`` / ``_sumsq_combined``, and each SpatialBN reads
them with ``num_batches`` = the number of devices. Each group of SpatialBNGradient
ops likewise gets ChannelBackpropStats per device, their scale and bias gradients
summed on the first device and copied back, and ``num_batches``. Statistics are
combined across the devices of this process, not across MPI ranks (as in Caffe2).
"""

from __future__ import annotations

from typing import Any

from caffe2lite import core
from caffe2lite.distributed.mpi_parallel import strip_blob_name
from caffe2lite.errors import ApiValueError
from caffe2lite.utils import MakeArgument


def interleave_ops(model: Any) -> None:
    """Reorder the training net: op j of every device, in device order, then op j + 1."""
    ops = list(model.net.Proto().op)
    devices = list(model._devices)
    per_device: dict[int, list] = {d: [] for d in devices}
    for op in ops:
        per_device.setdefault(op.device_option.device_id, []).append(op)
    counts = {len(v) for v in per_device.values()}
    if len(per_device) != len(devices) or len(counts) != 1:
        raise ApiValueError("Number of ops per device in original net is not uniform",
                            expected="the same ops on every device",
                            found={d: len(v) for d, v in per_device.items()})
    reordered = []
    for j in range(counts.pop()):
        first = per_device[devices[0]][j].type
        for d in devices:
            op = per_device[d][j]
            if op.type != first:
                raise ApiValueError(f"Type mismatch {first} / {op.type}",
                                    expected=first, found=op.type)
            reordered.append(op)
    del model.net.Proto().op[:]
    model.net.Proto().op.extend(reordered)


def combine_spatial_bn(model: Any) -> None:
    """Interleave the ops, then combine every SpatialBN / SpatialBNGradient group's
    statistics over the devices (see the module doc)."""
    interleave_ops(model)
    n = len(model._devices)
    out: list = []
    forward: list = []    # the SpatialBN ops of the current group
    backward: list = []   # the SpatialBNGradient ops of the current group

    def flush() -> None:
        if forward:
            first = forward[0].input[0]
            out.extend(core.CreateOperator("ChannelStats", [op.input[0]],
                                           [op.input[0] + "_sums", op.input[0] + "_sumsq"])
                       for op in forward)
            out.append(core.CreateOperator("Sum", [op.input[0] + "_sums" for op in forward],
                                           [first + "_sums_combined"]))
            out.append(core.CreateOperator("Sum", [op.input[0] + "_sumsq" for op in forward],
                                           [first + "_sumsq_combined"]))
            for op in forward:
                op.input.extend([first + "_sums_combined", first + "_sumsq_combined"])
                op.arg.extend([MakeArgument("num_batches", n)])
            out.extend(forward)
            forward.clear()
        if backward:
            out.extend(core.CreateOperator(
                "ChannelBackpropStats", [op.input[0], op.input[3], op.input[4], op.input[2]],
                [op.output[1], op.output[2]]) for op in backward)
            for k in (1, 2):  # scale, then bias gradients: summed on cpu_0, copied back
                blobs = [op.output[k] for op in backward]
                total = f"cpu_0/{strip_blob_name(blobs[0])}_combined"
                out.append(core.CreateOperator("Sum", blobs, [total]))
                out.extend(core.CreateOperator("Copy", [total], [b]) for b in blobs)
            for op in backward:
                op.arg.extend([MakeArgument("num_batches", n)])
                op.input.extend([op.output[1], op.output[2]])
            out.extend(backward)
            backward.clear()

    for op in list(model.net.Proto().op):
        if op.type == "SpatialBN":
            if backward:
                flush()
            forward.append(op)
        elif op.type == "SpatialBNGradient":
            if forward:
                flush()
            backward.append(op)
        else:
            flush()
            out.append(op)
    flush()  # (Caffe2 refused a net ending in SpatialBN and dropped a last gradient group)
    del model.net.Proto().op[:]
    model.net.Proto().op.extend(out)
