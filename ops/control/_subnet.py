"""Running a control op's sub-nets in its own workspace (not an operator module).

Caffe2 created a control op's nets in the op's workspace and ran them there: what the
nets write is the workspace's. Here the kernel receives that workspace's blob dict
through its ``outputs`` parameter (:class:`caffe2lite.runtime.net.OutputBlobs`), runs
the nets on a shallow copy of it and, when they all succeed, writes every blob they
created or replaced back into the dict; a sub-net that fails leaves the workspace as
it was, like any failing operator (arrays that an op updates in place, such as the
sparse optimizers' parameters, are the exception, as they are outside control ops).
Called outside a workspace (``outputs.blobs`` is None), the nets see only the op's
own inputs, by name.
"""

from __future__ import annotations

from typing import Any, MutableMapping, Sequence

import numpy as np

from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.net import CompiledNet, OutputBlobs
from caffe2lite.schema.checks import cpp_type_name

_MISSING = object()


def scratch_workspace(outputs: OutputBlobs, op_def: caffe2_pb2.OperatorDef,
                      inputs: Sequence[Any]) -> tuple[MutableMapping[str, Any] | None, dict]:
    """(the real blob dict or None, a copy the sub-nets run on)."""
    blobs = outputs.blobs
    if blobs is None:
        return None, dict(zip(op_def.input, inputs))
    return blobs, dict(blobs)


def commit(blobs: MutableMapping[str, Any] | None, scratch: dict) -> None:
    """Write what the sub-nets created or replaced back into the workspace."""
    if blobs is None:
        return
    for name, value in scratch.items():
        if blobs.get(name, _MISSING) is not value:
            blobs[name] = value


def compiled(state: dict, key: str, netdef: caffe2_pb2.NetDef, scratch: dict) -> CompiledNet:
    """The sub-net compiled once per op instance (as Caffe2 created it once, with the
    op), keeping its ops' random generators across runs."""
    net = state.get(key)
    if net is None:
        net = state[key] = CompiledNet(netdef, existing=scratch.keys())
    return net


def condition_value(value: Any, op: str, blob: str = "condition") -> bool:
    """The single bool of a condition tensor, with Caffe2's checks and messages."""
    if not isinstance(value, np.ndarray):
        raise DTypeError(f"Invalid condition in {op} operator: tensor expected", blob=blob,
                         expected="a bool tensor", found=type(value).__name__)
    if value.size != 1:
        raise ShapeError(f"condition.numel() == 1. {value.size} vs 1. Invalid condition tensor "
                         f"in {op} operator: single value expected", blob=blob,
                         expected="one value", found=f"shape {tuple(value.shape)}")
    if value.dtype != np.bool_:
        raise DTypeError("Tensor type mismatch, caller expects elements to be bool while "
                         f"tensor contains {cpp_type_name(value.dtype)}", blob=blob,
                         expected="bool", found=str(value.dtype))
    return bool(value.reshape(-1)[0])


def op_outputs(op_def: caffe2_pb2.OperatorDef, scratch: dict) -> tuple:
    """The op's declared outputs as the sub-nets left them (None: never written, an
    empty blob as Caffe2 left it)."""
    return tuple(scratch.get(name) for name in op_def.output)
