"""Python values <-> ``caffe2.Argument``, and OperatorDef construction.

:func:`make_argument` follows Caffe2's ``utils.MakeArgument`` rules (which field a
Python value lands in); :func:`argument_value` reads an Argument back without a schema;
:func:`typed_value` reads it for a schema argument of a known type, as Caffe2's
``GetSingleArgument<T>`` / ``GetRepeatedArgument<T>`` did, except that an integer is
accepted where a float is expected.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
from google.protobuf.message import Message

from caffe2lite.errors import ArgumentError
from caffe2lite.proto import caffe2_pb2

# The argument types a schema can declare, and the Python types accepted as aliases.
ARG_TYPES = (
    "float", "int", "bool", "str", "bytes", "floats", "ints", "strings",
    "tensor", "tensors", "net", "nets", "dtype", "any",
)
_TYPE_ALIASES = {float: "float", int: "int", bool: "bool", str: "str", bytes: "bytes"}


def normalize_arg_type(kind: Any) -> str:
    """Map ``float``/``int``/... or a type name to one of :data:`ARG_TYPES`."""
    name = _TYPE_ALIASES.get(kind, kind)
    if name not in ARG_TYPES:
        raise ValueError(f"unknown argument type {kind!r}; expected one of {ARG_TYPES}")
    return name


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer, bool, np.bool_))


def make_argument(key: str, value: Any) -> caffe2_pb2.Argument:
    """Build an Argument the way Caffe2's ``MakeArgument`` did.

    >>> a = make_argument("ratio", 0.5); (a.name, a.f)
    ('ratio', 0.5)
    >>> list(make_argument("shape", [2, 3]).ints)
    [2, 3]
    """
    arg = caffe2_pb2.Argument()
    arg.name = key
    if isinstance(value, np.ndarray):
        if value.dtype == np.float32:
            arg.floats.extend(value.flatten().tolist())
            return arg
        value = value.flatten().tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        arg.f = value
    elif _is_int(value):
        arg.i = int(value)
    elif isinstance(value, bytes):
        arg.s = value
    elif isinstance(value, str):
        arg.s = value.encode("utf-8")
    elif isinstance(value, caffe2_pb2.NetDef):
        arg.n.CopyFrom(value)
    elif isinstance(value, Message):
        arg.s = value.SerializeToString()
    elif isinstance(value, (list, tuple)):
        items = [v.item() if isinstance(v, np.generic) else v for v in value]
        if all(isinstance(v, float) for v in items):
            arg.floats.extend(items)
        elif all(_is_int(v) for v in items):
            arg.ints.extend(int(v) for v in items)
        elif all(isinstance(v, (float, int)) and not isinstance(v, bool) for v in items):
            arg.floats.extend(float(v) for v in items)
        elif all(isinstance(v, (str, bytes)) for v in items):
            arg.strings.extend(v.encode("utf-8") if isinstance(v, str) else v for v in items)
        elif all(isinstance(v, caffe2_pb2.NetDef) for v in items):
            arg.nets.extend(items)
        elif all(isinstance(v, Message) for v in items):
            arg.strings.extend(v.SerializeToString() for v in items)
        else:
            raise _unknown(key, value)
    else:
        raise _unknown(key, value)
    return arg


def _unknown(key: str, value: Any) -> Exception:
    from caffe2lite.errors import ApiValueError

    return ApiValueError(
        f"Unknown argument type: key={key} value={value!r} value type={type(value)}"
    )


def argument_value(arg: caffe2_pb2.Argument) -> Any:
    """The Python value an Argument carries, read without a schema.

    Singular fields win over repeated ones; an Argument with nothing set gives ``[]``.
    """
    for field in ("f", "i", "s"):
        if arg.HasField(field):
            return getattr(arg, field)
    if arg.HasField("t"):
        return arg.t
    if arg.HasField("n"):
        return arg.n
    for field in ("floats", "ints", "strings", "tensors", "nets", "qtensors"):
        values = getattr(arg, field)
        if len(values):
            return list(values)
    return []


def _fields_set(arg: caffe2_pb2.Argument) -> str:
    names = [f.name for f, _ in arg.ListFields() if f.name != "name"]
    return ", ".join(names) if names else "no value"


def typed_value(arg: caffe2_pb2.Argument, kind: str, op_type: str) -> Any:
    """Read ``arg`` as schema type ``kind``; raise ArgumentError on the wrong field."""

    def wrong(field: str) -> ArgumentError:
        return ArgumentError(
            f"Argument {arg.name} does not have the right field: expected field {field}",
            arg=arg.name,
            expected=f"field {field} ({kind})",
            found=_fields_set(arg),
        )

    def text(data: bytes) -> str:
        # Argument.s and .strings are bytes on the wire; an op reading them as text
        # needs UTF-8 (Caffe2 read them as std::string and never checked).
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ArgumentError(
                f"Argument {arg.name} is not valid UTF-8 text "
                f"(byte {e.start}: {data[e.start:e.start + 1]!r})",
                arg=arg.name, expected="UTF-8 text", found=repr(data[:40])) from None

    if kind == "float":
        if arg.HasField("f"):
            return float(arg.f)
        if arg.HasField("i"):  # caffe2lite accepts an int for a float argument
            return float(arg.i)
        raise wrong("f")
    if kind in ("int", "bool"):
        if arg.HasField("i"):
            return bool(arg.i) if kind == "bool" else int(arg.i)
        raise wrong("i")
    if kind in ("str", "bytes"):
        if arg.HasField("s"):
            return arg.s if kind == "bytes" else text(arg.s)
        raise wrong("s")
    if kind == "dtype":
        if arg.HasField("i"):
            return int(arg.i)
        if arg.HasField("s"):
            return dtype_enum(text(arg.s), arg.name)
        raise wrong("i")
    if kind in ("floats", "ints"):
        if arg.HasField("f") or arg.HasField("i") or arg.HasField("s"):
            raise wrong(kind)
        if kind == "floats":
            return [float(v) for v in (arg.floats or arg.ints)]
        if len(arg.floats):
            raise wrong("ints")
        return [int(v) for v in arg.ints]
    if kind == "strings":
        if len(arg.ints) or len(arg.floats) or arg.HasField("s"):
            raise wrong("strings")
        return [text(s) for s in arg.strings]
    if kind == "tensor":
        if arg.HasField("t"):
            return arg.t
        raise wrong("t")
    if kind == "net":
        if arg.HasField("n"):
            return arg.n
        raise wrong("n")
    if kind == "tensors":
        return list(arg.tensors)
    if kind == "nets":
        return list(arg.nets)
    return argument_value(arg)


def dtype_enum(name: str, arg_name: str = "dtype") -> int:
    """A ``TensorProto.DataType`` value from its name (``"float"``, ``"INT64"`` ...)."""
    key = name.strip().upper()
    aliases = {"FLOAT32": "FLOAT", "FLOAT64": "DOUBLE", "HALF": "FLOAT16", "LONG": "INT64",
               "INT": "INT32", "BYTES": "STRING"}
    key = aliases.get(key, key)
    try:
        return caffe2_pb2.TensorProto.DataType.Value(key)
    except ValueError:
        known = ", ".join(caffe2_pb2.TensorProto.DataType.keys())
        raise ArgumentError(
            "unknown data type name", arg=arg_name, expected=f"one of {known}", found=repr(name)
        ) from None


def operator_def(
    op_type: str,
    inputs: Iterable[str] | str = (),
    outputs: Iterable[str] | str = (),
    *,
    name: str = "",
    engine: str | None = None,
    device_option: caffe2_pb2.DeviceOption | None = None,
    arg: Iterable[caffe2_pb2.Argument] | None = None,
    **kwargs: Any,
) -> caffe2_pb2.OperatorDef:
    """Build an OperatorDef; keyword arguments become Arguments (``None`` is skipped).

    >>> op = operator_def("Relu", ["X"], ["Y"]); (op.type, list(op.input), list(op.output))
    ('Relu', ['X'], ['Y'])
    """
    op = caffe2_pb2.OperatorDef()
    op.type = op_type
    if name:
        op.name = name
    op.input.extend([inputs] if isinstance(inputs, str) else [str(i) for i in inputs])
    op.output.extend([outputs] if isinstance(outputs, str) else [str(o) for o in outputs])
    if engine:
        op.engine = engine
    if device_option is not None:
        op.device_option.CopyFrom(device_option)
    if arg:
        op.arg.extend(arg)
    for key, value in kwargs.items():
        if value is not None:
            op.arg.append(make_argument(key, value))
    return op
