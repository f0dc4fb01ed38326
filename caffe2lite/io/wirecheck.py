"""Checks of protobuf data before it is parsed, without recursion.

:func:`check_binary` walks the wire format with an explicit stack: bad encodings,
unknown field numbers, enum values outside their enum, text fields that are not
UTF-8, and the limits of :mod:`caffe2lite.io.limits` (nesting, ops per net,
argument size). :func:`check_text` scans text format for the nesting and op-count
limits before the (recursive, slow) text parser runs. :func:`other_message_type`
tells when binary data is a different Caffe2 message than the one asked for.
"""

from __future__ import annotations

import re
from typing import Any, cast

import numpy as np
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from caffe2lite.io import limits
from caffe2lite.proto import caffe2_pb2

F = FieldDescriptor
# The wire type each field type is written with (0, varint, for all the others).
WIRE_TYPES = {F.TYPE_DOUBLE: 1, F.TYPE_FIXED64: 1, F.TYPE_SFIXED64: 1, F.TYPE_FLOAT: 5,
              F.TYPE_FIXED32: 5, F.TYPE_SFIXED32: 5, F.TYPE_STRING: 2, F.TYPE_BYTES: 2,
              F.TYPE_MESSAGE: 2}  # fmt: skip
NETDEF = caffe2_pb2.NetDef.DESCRIPTOR
ARGUMENT = caffe2_pb2.Argument.DESCRIPTOR
# Messages a Caffe2 file may hold, for telling one read as another.
# (Typed as the pure-Python Descriptor: upb's has the same attributes.)
FILE_TYPES = cast(list[Descriptor], [
    caffe2_pb2.NetDef.DESCRIPTOR, caffe2_pb2.PlanDef.DESCRIPTOR,
    caffe2_pb2.TensorProtos.DESCRIPTOR, caffe2_pb2.TensorProto.DESCRIPTOR,
    caffe2_pb2.BlobProto.DESCRIPTOR])  # fmt: skip
# C0 control characters other than tab, newline and carriage return.
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class WireProblem(ValueError):
    """What is wrong with the data; ``kind`` is 'structure', 'text' or 'limit'."""

    def __init__(self, message: str, kind: str = "structure") -> None:
        super().__init__(message)
        self.kind = kind


def _is_repeated(field: FieldDescriptor) -> bool:
    # protobuf 7 dropped FieldDescriptor.label; 3.20 lacks is_repeated.
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == F.LABEL_REPEATED  # type: ignore[attr-defined]


def _varint(view: memoryview, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = view[pos]  # an IndexError here means the data is truncated
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return value, pos
        if shift >= 70:
            raise OverflowError  # protobuf's varints are at most 10 bytes


def _path(parts: list, last: tuple | None = None) -> str:
    names = [
        f".{name}[{index}]" if index is not None else f".{name}"
        for name, index, _ in (parts[1:] + [last] if last else parts[1:])
    ]
    if len(names) > 11:
        names = [*names[:4], f"(... {len(names) - 10} more ...)", *names[-6:]]
    return parts[0][0] + "".join(names)


def _limit(where: str, what: str, name: str, limit: int) -> WireProblem:
    return WireProblem(
        f"{where}: {what}, more than the limit of {limit} (caffe2lite.io.limits.{name})",
        "limit",
    )


def _ops_limit(where: str) -> WireProblem:
    limit = limits.MAX_OPS_PER_NET
    return _limit(where, f"{limit + 1} ops or more", "MAX_OPS_PER_NET", limit)


def _run_length(view: memoryview, pos: int, key: bytes, stride: int) -> int:
    """How many fields of ``stride`` bytes starting with ``key`` follow at ``pos``."""
    count = 0
    while True:
        chunk = np.frombuffer(view[pos : pos + stride * 65536], dtype=np.uint8)
        whole = len(chunk) // stride
        if not whole:
            return count
        rows = chunk[: whole * stride].reshape(whole, stride)[:, : len(key)]
        bad = np.flatnonzero((rows != np.frombuffer(key, np.uint8)).any(axis=1))
        if len(bad):
            return count + int(bad[0])
        count, pos = count + whole, pos + whole * stride


def _fields(desc: Descriptor) -> dict[int, tuple]:
    """number -> (field, repeated, expected wire type), cached per message type."""
    found = _FIELDS.get(desc)
    if found is None:
        found = _FIELDS[desc] = {
            f.number: (f, _is_repeated(f), WIRE_TYPES.get(f.type, 0))
            for f in desc.fields
        }
    return found


_FIELDS: dict[Descriptor, dict[int, tuple]] = {}


def _varint_run(view: memoryview, pos: int, key: int) -> tuple[int, int]:
    """How many (one-byte ``key``, varint) fields follow at ``pos``, and where they
    end. Every such field is two tokens, each ending at a byte below 0x80: the key
    itself, then its varint (at most 10 bytes)."""
    count = 0
    while True:
        chunk = np.frombuffer(view[pos : pos + (1 << 20)], dtype=np.uint8)
        ends = np.flatnonzero(chunk < 0x80)
        pairs = len(ends) // 2
        keys, values = ends[0 : 2 * pairs : 2], ends[1 : 2 * pairs : 2]
        starts = np.concatenate(([0], values[:-1] + 1)) if pairs else keys
        ok = (keys == starts) & (chunk[keys] == key) & (values - keys <= 10)
        good = pairs if ok.all() else int(np.argmin(ok))
        if not good:
            return count, pos
        count, pos = count + good, pos + int(values[good - 1]) + 1
        if good < pairs or pos >= len(view):
            return count, pos


def check_binary(data: bytes, root: Descriptor, odd: list | None = None) -> None:
    """Raise :class:`WireProblem` for the first thing in ``data`` that a ``root``
    message cannot hold, or that breaks a limit; names the path
    (``caffe2.NetDef.op[1].arg[0]``) and the byte offset.

    ``odd``, when given, collects the field-number paths of the first few text
    fields holding what no name holds (control characters, invalid UTF-8): the
    signs that the data is another message type (see :func:`other_message_type`)."""
    # Each frame: [descriptor, view, position, base offset, repeat counts]; parts
    # the path to it, as (name, index or None), made text only for a message.
    stack: list[list[Any]] = [[root, memoryview(data), 0, 0, {}]]
    parts: list = [(root.full_name, None, 0)]
    while stack:
        frame = stack[-1]
        desc, view, pos, base, counts = frame
        if pos >= len(view):
            stack.pop()
            parts.pop()
            continue
        start = pos
        try:
            key = view[pos]
            key, pos = (key, pos + 1) if key < 0x80 else _varint(view, pos)
            key_end = pos
            number, wire = key >> 3, key & 7
            if wire not in (0, 1, 2, 5) or number == 0:
                raise WireProblem(
                    f"{_path(parts)}: invalid tag {key} (field {number}, "
                    f"wire type {wire}) at byte {base + start}"
                )
            info = _fields(desc).get(number)
            if info is None:
                raise WireProblem(
                    f"{_path(parts)}: unknown field number {number} at byte {base + start}"
                )
            field, repeated, expected = info
            index = counts.get(number, 0)
            counts[number] = index + 1
            part = (field.name, index if repeated else None, number)
            if wire != expected and not (repeated and wire == 2):
                raise WireProblem(
                    f"{_path(parts, part)}: wire type {wire}, expected {expected}, "
                    f"at byte {base + start}"
                )
            if desc is NETDEF and number == 2 and index >= limits.MAX_OPS_PER_NET:
                raise _ops_limit(_path(parts))
            if wire == 0:
                value, pos = _varint(view, pos)
                enum = field.enum_type
                if enum is not None and value not in enum.values_by_number:
                    raise WireProblem(
                        f"{_path(parts, part)}: {value} is not a value of {enum.full_name}"
                    )
                if (
                    repeated
                    and enum is None
                    and key < 0x80
                    and view[pos : pos + 1] == b"%c" % key
                ):
                    # ints, int32_data ... unpacked: skip a run of whole fields at once.
                    run, pos = _varint_run(view, pos, key)
                    counts[number] += run
            elif wire == 2:
                length = view[pos]
                length, pos = (length, pos + 1) if length < 0x80 else _varint(view, pos)
                if pos + length > len(view):
                    raise IndexError
                if field.type == F.TYPE_MESSAGE:
                    _enter(
                        stack, parts, field, part, view[pos : pos + length], base + pos
                    )
                elif field.type == F.TYPE_STRING:
                    raw = bytes(view[pos : pos + length])
                    if odd is not None and len(odd) < 8 and not _is_name(raw):
                        odd.append(tuple(p[2] for p in parts[1:]) + (number,))
                    _check_utf8(raw, parts, part)
                pos += length
            else:
                width = 8 if wire == 1 else 4
                pos += width
                if pos > len(view):
                    raise IndexError
                key_bytes = bytes(view[start:key_end])
                if repeated and bytes(view[pos : pos + len(key_bytes)]) == key_bytes:
                    # Caffe2 wrote float_data, floats ... unpacked: skip a run at once.
                    stride = len(key_bytes) + width
                    run = _run_length(view, pos, key_bytes, stride)
                    counts[number] += run
                    pos += run * stride
        except IndexError:
            raise WireProblem(
                f"{_path(parts)}: data ends inside the field that starts at byte "
                f"{base + start}"
            ) from None
        except OverflowError:
            raise WireProblem(
                f"{_path(parts)}: a varint longer than 10 bytes in the field that "
                f"starts at byte {base + start}"
            ) from None
        frame[2] = pos


def _enter(stack: list, parts: list, field: FieldDescriptor, part: tuple,
           view: memoryview, base: int) -> None:  # fmt: skip
    """Push a submessage, checking the nesting and argument-size limits first."""
    depth = len(stack)
    if depth > limits.MAX_NESTING:
        raise _limit(_path(parts, part), f"messages nested {depth} deep",
                     "MAX_NESTING", limits.MAX_NESTING)  # fmt: skip
    if field.message_type is ARGUMENT and len(view) > limits.MAX_ARGUMENT_BYTES:
        raise _limit(_path(parts, part), f"an argument of {len(view)} bytes",
                     "MAX_ARGUMENT_BYTES", limits.MAX_ARGUMENT_BYTES)  # fmt: skip
    stack.append([field.message_type, view, 0, base, {}])
    parts.append(part)


def _check_utf8(raw: bytes, parts: list, part: tuple) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WireProblem(
            f"{_path(parts, part)}: not valid UTF-8 (byte 0x{raw[e.start]:02x} at "
            f"{e.start}); names, types and engines are text",
            "text",
        ) from None


def _is_name(raw: bytes) -> bool:
    if CONTROL.search(raw):
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def top_level_odd(data: bytes, desc: Descriptor) -> list[tuple[int, ...]]:
    """:func:`check_binary`'s ``odd`` for the top-level fields alone, read past
    any problem further in (for data that fails early as ``desc``)."""
    found: list[tuple[int, ...]] = []
    view, pos = memoryview(data), 0
    try:
        while pos < len(view) and len(found) < 8:
            key, pos = _varint(view, pos)
            wire = key & 7
            if wire == 0:
                _, pos = _varint(view, pos)
            elif wire in (1, 5):
                pos += 8 if wire == 1 else 4
            elif wire == 2:
                length, pos = _varint(view, pos)
                field = desc.fields_by_number.get(key >> 3)
                text = field is not None and field.type == F.TYPE_STRING
                if text and not _is_name(bytes(view[pos : pos + length])):
                    found.append((key >> 3,))
                pos += length
            else:
                break
    except (IndexError, OverflowError):
        pass
    return found


def _is_message_path(desc: Descriptor, numbers: tuple[int, ...]) -> bool:
    for number in numbers:
        field = desc.fields_by_number.get(number) if desc else None
        if field is None or field.message_type is None:
            return False
        desc = field.message_type
    return True


def other_message_type(
    data: bytes, desc: Descriptor, odd: list[tuple[int, ...]]
) -> Descriptor | None:
    """The Caffe2 file message ``data`` is instead of ``desc``, when the bytes show
    it: a text field of ``desc`` holding what no name holds (``odd``, its field
    numbers from the top) is, along the same field numbers, a message of the other
    type, and the whole data is a well-formed message of that type."""
    if not odd:
        return None
    for other in FILE_TYPES:
        if other is desc or not any(_is_message_path(other, path) for path in odd):
            continue
        try:
            check_binary(data, other)
        except WireProblem as e:
            if e.kind != "limit":  # past a limit the data is still of that type
                continue
        return other
    return None


_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|#[^\n]*|[A-Za-z_][\w.]*|[{}<>\[\],]'
)


def check_text(text: str, root: Descriptor) -> None:
    """Raise :class:`WireProblem` when text-format ``text`` nests deeper than
    ``MAX_NESTING`` or a NetDef in it has more than ``MAX_OPS_PER_NET`` ops.

    A scan of tokens (strings and comments skipped), not a parse: the parser
    reports everything else."""
    stack: list[list] = [[root, 0]]  # [descriptor or None, op count]
    lists: list[str | None] = []
    last: str | None = None
    for match in _TOKEN.finditer(text):
        token = match.group()
        head = token[0]
        if head in "{<":
            field_name = last if last is not None else (lists[-1] if lists else None)
            parent = stack[-1]
            depth = len(stack)
            if depth > limits.MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                raise _limit(f"{root.full_name} (line {line})",
                             f"messages nested {depth} deep", "MAX_NESTING",
                             limits.MAX_NESTING)  # fmt: skip
            field = parent[0].fields_by_name.get(field_name) if parent[0] else None
            if parent[0] is NETDEF and field_name == "op":
                parent[1] += 1
                if parent[1] > limits.MAX_OPS_PER_NET:
                    line = text.count("\n", 0, match.start()) + 1
                    raise _ops_limit(f"{root.full_name} (line {line})")
            stack.append([field.message_type if field else None, 0])
            last = None
        elif head in "}>":
            if len(stack) > 1:
                stack.pop()
            last = None
        elif head == "[":
            lists.append(last)
            last = None
        elif head == "]":
            if lists:
                lists.pop()
            last = None
        elif head in ",\"'":
            last = None
        elif head != "#":
            last = token
