"""Caffe2's ``utils`` module: Arguments and TensorProtos from Python values and
back, reading protobuf strings of an unknown class, and small net helpers.

The conversions are those of :mod:`caffe2lite.io` (``MakeArgument`` is
:func:`caffe2lite.io.arguments.make_argument`, the tensor ones
:func:`caffe2lite.io.tensor.numpy_to_tensor` / ``tensor_to_numpy``).
"""

from __future__ import annotations

import copy
import functools
import sys
from typing import Any, Callable, Mapping

import numpy as np
from google.protobuf.message import DecodeError

from caffe2lite.io.arguments import make_argument as MakeArgument  # noqa: F401
from caffe2lite.io.tensor import numpy_to_tensor, tensor_to_numpy
from caffe2lite.proto import caffe2_pb2

OPTIMIZER_ITERATION_NAME = "optimizer_iteration"
ITERATION_MUTEX_NAME = "iteration_mutex"


def NumpyArrayToCaffe2Tensor(arr: np.ndarray, name: str | None = None) -> caffe2_pb2.TensorProto:
    """A TensorProto holding ``arr`` (named ``name``), as Caffe2 serialised it."""
    return numpy_to_tensor(np.asarray(arr), name or None)


def Caffe2TensorToNumpyArray(tensor: caffe2_pb2.TensorProto) -> np.ndarray:
    """The array a TensorProto holds."""
    return tensor_to_numpy(tensor)


def CaffeBlobToNumpyArray(blob: Any) -> np.ndarray:
    """A (legacy) Caffe BlobProto's float data with its shape."""
    if getattr(blob, "num", 0):
        return np.asarray(blob.data, dtype=np.float32).reshape(
            blob.num, blob.channels, blob.height, blob.width)
    return np.asarray(blob.data, dtype=np.float32).reshape(blob.shape.dim)


def ArgsToDict(args: Any) -> dict[str, Any]:
    """``{name: value}`` of Arguments: the one field each sets (a repeated field when
    it is not empty), ``None`` when none is set; unnamed arguments are skipped."""
    out: dict[str, Any] = {}
    for arg in args:
        if not arg.HasField("name"):
            continue
        value = None
        for field in arg.DESCRIPTOR.fields:
            if field.name == "name":
                continue
            if _is_repeated(field):
                items = getattr(arg, field.name)
                if len(items) > 0:
                    value = items
                    break
            elif arg.HasField(field.name):
                value = getattr(arg, field.name)
                break
        out[arg.name] = value
    return out


def _is_repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return field.label == field.LABEL_REPEATED


def TryReadProtoWithClass(cls: type, s: Any) -> Any:
    """Read ``s`` (str or bytes) as a ``cls`` message: text format first, then
    binary, through the checked loader (nesting, size and UTF-8 limits, no message
    of another type taken for this one). Raises ``DecodeError``, as Caffe2 did, when
    neither fits; its text gives both reasons."""
    from caffe2lite.errors import ProtoParseError
    from caffe2lite.io.protoio import parse_message

    data = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    reasons = []
    for fmt in ("text", "binary"):
        try:
            return parse_message(data, cls, fmt=fmt)
        except ProtoParseError as e:
            reasons.append(str(e))
    raise DecodeError("; ".join(reasons))


def GetContentFromProto(obj: Any, function_map: Mapping[type, Callable[[Any], Any]]) -> Any:
    """``function_map[type(obj)](obj)`` (None when no class matches)."""
    for cls, func in function_map.items():
        if type(obj) is cls:
            return func(obj)
    return None


def GetContentFromProtoString(s: Any, function_map: Mapping[type, Callable[[Any], Any]]) -> Any:
    """Read ``s`` as the first class of ``function_map`` it parses as, and apply that
    class's function."""
    for cls, func in function_map.items():
        try:
            obj = TryReadProtoWithClass(cls, s)
        except DecodeError:
            continue
        return func(obj)
    raise DecodeError("Cannot find a fit protobuffer class.")


def ConvertProtoToBinary(proto_class: type, filename: str, out_filename: str) -> None:
    """Rewrite a text protobuf file of ``proto_class`` as binary."""
    with open(filename, "rb") as f:
        proto = TryReadProtoWithClass(proto_class, f.read())
    with open(out_filename, "wb") as f:
        f.write(proto.SerializeToString())


def OpAlmostEqual(op_a: Any, op_b: Any, ignore_fields: Any = None) -> bool:
    """Two OperatorDefs are equal but for ``ignore_fields``."""
    fields = ignore_fields or []
    if not isinstance(fields, list):
        fields = [fields]

    def clean(op: Any) -> Any:
        op = copy.deepcopy(op)
        for field in fields:
            if op.HasField(field):
                op.ClearField(field)
        return op

    return clean(op_a) == clean(op_b)


def ResetBlobs(blobs: Any) -> None:
    """Empty these blobs of the current workspace (they stay, holding nothing), as
    Caffe2's ``Free`` op left them."""
    from caffe2lite.runtime import workspace as _w

    ws = _w._ws()
    for blob in blobs:
        name = _w._blob_name(blob)
        if name in ws._blobs:
            ws._blobs[name] = None


def raiseIfNotEqual(a: Any, b: Any, msg: str) -> None:
    if a != b:
        raise Exception(f"{msg}. {a} != {b}")


class DebugMode:
    """``DebugMode.run(main)``: drop into pdb on an unhandled exception."""

    @classmethod
    def run(cls, func: Callable[[], Any]) -> Any:
        try:
            return func()
        except KeyboardInterrupt:
            raise
        except Exception:
            import pdb

            print('Entering interactive debugger. Type "bt" to print the full stacktrace. '
                  'Type "help" to see command listing.')
            print(sys.exc_info()[1])
            pdb.post_mortem()
            sys.exit(1)


def debug(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``f`` with :class:`DebugMode`."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return DebugMode.run(lambda: f(*args, **kwargs))

    return wrapper


def BuildUniqueMutexIter(init_net: Any, net: Any, iter: Any = None, iter_mutex: Any = None,
                         iter_val: int = 0) -> Any:
    """The iteration counter blob (int64, CPU) of ``init_net``, made once with its
    mutex and an ``AtomicIter`` in ``net``; returns the counter's reference."""
    from caffe2lite import core

    iter = OPTIMIZER_ITERATION_NAME if iter is None else iter
    iter_mutex = ITERATION_MUTEX_NAME if iter_mutex is None else iter_mutex
    if init_net.BlobIsDefined(iter):
        return init_net.GetBlobRef(iter)
    with core.DeviceScope(core.DeviceOption(caffe2_pb2.CPU,
                                            extra_info=["device_type_override:cpu"])):
        iteration = init_net.ConstantFill([], iter, shape=[1], value=iter_val,
                                          dtype=core.DataType.INT64)
        mutex = init_net.CreateMutex([], [iter_mutex])
        net.AtomicIter([mutex, iteration], [iteration])
    return iteration


def EnumClassKeyVals(cls: type) -> dict[str, str]:
    """The upper-case string attributes of ``cls`` (each value once)."""
    enum: dict[str, str] = {}
    for key in dir(cls):
        if key == key.upper():
            value = getattr(cls, key)
            if isinstance(value, str):
                if value in enum.values():
                    raise AssertionError(f"Failed to resolve {cls} as Enum: duplicate "
                                         f"entries {key}={value}")
                enum[key] = value
    return enum


def NHWC2NCHW(tensor: np.ndarray) -> np.ndarray:
    assert tensor.ndim >= 1
    return tensor.transpose((0, tensor.ndim - 1) + tuple(range(1, tensor.ndim - 1)))


def NCHW2NHWC(tensor: np.ndarray) -> np.ndarray:
    assert tensor.ndim >= 2
    return tensor.transpose((0,) + tuple(range(2, tensor.ndim)) + (1,))
