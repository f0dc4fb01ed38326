"""Reading and writing Caffe2 protobuf files (NetDef, PlanDef, TensorProtos, ...).

Which format a file is read as depends on its name: ``.pbtxt``, ``.prototxt`` and
``.txt`` are text; any other file, ``.pb`` included, is tried as binary first and
then as text, and when both fail the error gives both reasons. An empty file is a
valid empty message. Unknown fields are errors in both formats (binary files name
the field by number and path, text files by name, line and column), and so are
missing required fields, so a file never loads with parts silently dropped.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message

from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.proto import caffe2_pb2

M = TypeVar("M", bound=Message)
TEXT_SUFFIXES = (".pbtxt", ".prototxt", ".txt")
FORMATS = ("binary", "text")
F = FieldDescriptor
# The wire type each field type is written with (0, varint, for all the others).
WIRE_TYPES = {F.TYPE_DOUBLE: 1, F.TYPE_FIXED64: 1, F.TYPE_SFIXED64: 1, F.TYPE_FLOAT: 5,
              F.TYPE_FIXED32: 5, F.TYPE_SFIXED32: 5, F.TYPE_STRING: 2, F.TYPE_BYTES: 2,
              F.TYPE_MESSAGE: 2}  # fmt: skip


def _varint(data: memoryview, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]  # an IndexError here means the data is truncated
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return value, pos


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 7 dropped FieldDescriptor.label; 3.20 lacks is_repeated.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == F.LABEL_REPEATED


def find_wire_problem(data: bytes, descriptor: Descriptor) -> str | None:
    """The first thing in binary ``data`` that ``descriptor`` does not account for.

    Names bad encodings, unknown field numbers and enum values outside their enum,
    with the path to them (``caffe2.NetDef.op[1].arg[0]``) and the byte offset;
    None when there is nothing to report.
    """

    def walk(view: memoryview, desc: Descriptor, path: str, base: int) -> str | None:
        counts: dict[int, int] = {}
        pos = 0
        while pos < len(view):
            start = pos
            at = f"at byte {base + start}"
            try:
                key, pos = _varint(view, pos)
                number, wire = key >> 3, key & 7
                if wire not in (0, 1, 2, 5) or number == 0:
                    return f"{path}: invalid tag {key} (field {number}, wire type {wire}) {at}"
                field = desc.fields_by_number.get(number)
                if field is None:
                    return f"{path}: unknown field number {number} {at}"
                where = f"{path}.{field.name}"
                if _is_repeated(field):
                    where += f"[{counts.get(number, 0)}]"
                    counts[number] = counts.get(number, 0) + 1
                expected = WIRE_TYPES.get(field.type, 0)
                if wire != expected and not (_is_repeated(field) and wire == 2):
                    return f"{where}: wire type {wire}, expected {expected}, {at}"
                if wire == 0:
                    value, pos = _varint(view, pos)
                    enum = field.enum_type
                    if enum is not None and value not in enum.values_by_number:
                        return f"{where}: {value} is not a value of {enum.full_name}"
                elif wire == 2:
                    length, pos = _varint(view, pos)
                    if field.type == F.TYPE_MESSAGE and pos + length <= len(view):
                        inner = view[pos : pos + length]
                        found = walk(inner, field.message_type, where, base + pos)
                        if found:
                            return found
                    pos += length
                else:
                    pos += 8 if wire == 1 else 4
                if pos > len(view):
                    raise IndexError
            except IndexError:
                return f"{path}: data ends inside the field that starts {at}"
        return None

    return walk(memoryview(data), descriptor, descriptor.full_name, 0)


def _parse_binary(data: bytes, msg: Message) -> None:
    # Our own pass first: protobuf keeps unknown fields silently, and its reasons
    # for bad data differ between versions and say little about where.
    problem = find_wire_problem(data, msg.DESCRIPTOR)
    if problem:
        raise ValueError(problem)
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        raise ValueError(str(e)) from None


def _parse_text(data: bytes, msg: Message) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at {e.start})"
        ) from None
    try:
        text_format.Parse(text, msg)
    except text_format.ParseError as e:
        raise ValueError(str(e)) from None


def parse_message(
    data: bytes, message_cls: type[M], *, name: str = "<bytes>", fmt: str | None = None
) -> M:
    """Parse ``data`` as ``message_cls`` in format ``fmt`` ('binary', 'text', or None).

    With ``fmt=None`` binary is tried first, then text; if both fail the error gives
    both reasons. ``name`` (a path) is used in error messages.

    >>> parse_message(b'name: "n"', caffe2_pb2.NetDef).name
    'n'
    """
    if fmt not in (None, *FORMATS):
        raise Caffe2LiteError(
            f"unknown protobuf format {fmt!r}", expected="'binary', 'text' or None"
        )
    type_name = message_cls.DESCRIPTOR.full_name
    reasons = []
    for each in (fmt,) if fmt else FORMATS:
        msg = message_cls()
        try:
            (_parse_binary if each == "binary" else _parse_text)(data, msg)
        except ValueError as e:
            reasons.append(f"as {each}: {e}")
            continue
        if not msg.IsInitialized():
            missing = ", ".join(msg.FindInitializationErrors())
            reasons.append(f"as {each}: missing required fields: {missing}")
            continue
        return msg
    raise ProtoParseError(f"cannot parse {name} as {type_name}: " + "; ".join(reasons))


def _read(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ProtoParseError(
            f"cannot read {os.fspath(path)}: {e.strerror or e}"
        ) from None


def _format_for(path: str | os.PathLike) -> str | None:
    return "text" if Path(path).suffix.lower() in TEXT_SUFFIXES else None


def load_proto(path: str | os.PathLike, cls: type[M]) -> M:
    """Read a binary or text protobuf file as ``cls`` (format chosen by file name)."""
    return parse_message(_read(path), cls, name=os.fspath(path), fmt=_format_for(path))


def load_net(path: str | os.PathLike) -> caffe2_pb2.NetDef:
    """Read a NetDef from a binary (``.pb``) or text (``.pbtxt``) file."""
    return load_proto(path, caffe2_pb2.NetDef)


def load_plan(path: str | os.PathLike) -> caffe2_pb2.PlanDef:
    """Read a PlanDef from a binary or text file."""
    return load_proto(path, caffe2_pb2.PlanDef)


def save_proto(msg: Message, path: str | os.PathLike) -> None:
    """Write ``msg`` as text to ``.pbtxt``/``.prototxt``/``.txt`` files, else binary."""
    if not msg.IsInitialized():
        missing = ", ".join(msg.FindInitializationErrors())
        raise Caffe2LiteError(
            f"cannot write {os.fspath(path)}: {msg.DESCRIPTOR.full_name} is missing "
            f"required fields: {missing}"
        )
    if _format_for(path) == "text":
        data = text_format.MessageToString(msg).encode("utf-8")
    else:
        data = msg.SerializeToString()
    try:
        Path(path).write_bytes(data)
    except OSError as e:
        raise Caffe2LiteError(
            f"cannot write {os.fspath(path)}: {e.strerror or e}"
        ) from None


def net_to_text(netdef: caffe2_pb2.NetDef) -> str:
    """A NetDef in protobuf text format, as ``.pbtxt`` files hold it."""
    return text_format.MessageToString(netdef)
