"""Reading and writing Caffe2 protobuf files (NetDef, PlanDef, TensorProtos, ...).

Which format a file is read as depends on its name: ``.pbtxt``, ``.prototxt`` and
``.txt`` are text; any other file, ``.pb`` included, is tried as binary first and
then as text, and when both fail the error gives both reasons. An empty file is a
valid empty message. Unknown fields are errors in both formats (binary files name
the field by number and path, text files by name, line and column), and so are
missing required fields, so a file never loads with parts silently dropped.

Files are untrusted: before protobuf parses anything, the data is checked without
recursion (:mod:`caffe2lite.io.wirecheck`) against the limits of
:mod:`caffe2lite.io.limits` (nesting depth, ops per net, argument and file size),
the same way for binary and text; names, types, engines and blob names must be
UTF-8 (``Argument.s`` and ``strings`` are bytes and may hold anything); and a file
whose bytes show another Caffe2 message (a PlanDef or TensorProtos read as a NetDef)
is refused as "not a caffe2.NetDef". Every failure is a ProtoParseError. What loads
saves and loads back in either format: :func:`save_proto` refuses what would not.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TypeVar, cast

from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message

from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.io import limits
from caffe2lite.io.wirecheck import (
    WireProblem,
    check_binary,
    check_text,
    other_message_type,
    top_level_odd,
)
from caffe2lite.proto import caffe2_pb2

M = TypeVar("M", bound=Message)
TEXT_SUFFIXES = (".pbtxt", ".prototxt", ".txt")
FORMATS = ("binary", "text")


def find_wire_problem(data: bytes, descriptor: Descriptor) -> str | None:
    """The first thing in binary ``data`` that ``descriptor`` does not account for.

    Names bad encodings, unknown field numbers, enum values outside their enum,
    text fields that are not UTF-8 and broken limits (:mod:`caffe2lite.io.limits`),
    with the path to them (``caffe2.NetDef.op[1].arg[0]``) and the byte offset;
    None when there is nothing to report.
    """
    try:
        check_binary(data, descriptor)
    except WireProblem as e:
        return str(e)
    return None


def _not_a(data: bytes, desc: Descriptor, odd: list) -> None:
    other = other_message_type(data, desc, odd)
    if other is None:
        return
    message = f"not a {desc.full_name}: the data is a {other.full_name}"
    try:
        check_binary(data, other)
    except WireProblem as e:
        message += f" (which cannot be read either: {e})"
    raise WireProblem(message, "type")


def _descriptor(msg: Message) -> Descriptor:
    # Typed as the pure-Python Descriptor: upb's has the same attributes.
    return cast(Descriptor, msg.DESCRIPTOR)


def _parse_binary(data: bytes, msg: Message) -> None:
    # Our own pass first: protobuf keeps unknown fields silently, does not check
    # UTF-8 in proto2 strings, and its reasons for bad data say little about where.
    odd: list = []
    desc = _descriptor(msg)
    try:
        check_binary(data, desc, odd)
    except WireProblem as e:
        if e.kind != "limit":  # a limit met means the data is of this type so far
            _not_a(data, desc, odd + top_level_odd(data, desc))
        raise
    _not_a(data, desc, odd)
    if limits.MAX_NESTING > limits.PROTOBUF_MAX_NESTING:
        _allow_deeper_protobuf()
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        if "MaxDepth" in str(e):
            raise WireProblem(
                f"messages nested deeper than the protobuf library reads "
                f"({limits.PROTOBUF_MAX_NESTING} levels)",
                "limit",
            ) from None
        raise WireProblem(str(e)) from None


def _allow_deeper_protobuf() -> None:
    # protobuf's own depth limit (100) rises only with its size limit, which
    # MAX_FILE_BYTES already guards; a one-way switch, for a raised MAX_NESTING.
    try:
        from google._upb import _message as upb  # type: ignore[import-not-found]
    except ImportError:  # another backend: its limit then gives the error
        return
    upb.SetAllowOversizeProtos(True)


def _parse_text(data: bytes, msg: Message) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise WireProblem(
            f"not UTF-8 text (byte 0x{data[e.start]:02x} at {e.start})"
        ) from None
    check_text(text, _descriptor(msg))
    try:
        with _recursion_room():
            text_format.Parse(text, msg)
    except text_format.ParseError as e:
        raise WireProblem(str(e)) from None
    except RecursionError:
        raise WireProblem(
            "messages nested deeper than the text parser can follow", "limit"
        ) from None
    # What loads from text must load from binary too: the same limits, counted
    # on the binary form.
    check_binary(msg.SerializePartialToString(), _descriptor(msg))


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
    prefix = f"cannot parse {name} as {type_name}: "
    if len(data) > limits.MAX_FILE_BYTES:
        raise ProtoParseError(prefix + _too_big(len(data)))
    reasons: list[str] = []
    decided = None
    for each in (fmt,) if fmt else FORMATS:
        msg = message_cls()
        try:
            (_parse_binary if each == "binary" else _parse_text)(data, msg)
        except WireProblem as e:
            reasons.append(f"as {each}: {e}")
            if e.kind != "structure":
                # Well-formed in this format up to a limit, a non-UTF-8 name or the
                # sign of another message: unless the other format reads the
                # data, this is the one reason worth giving.
                decided = decided or reasons[-1]
            continue
        if not msg.IsInitialized():
            missing = ", ".join(msg.FindInitializationErrors())  # type: ignore[attr-defined]
            reasons.append(f"as {each}: missing required fields: {missing}")
            continue
        return msg
    raise ProtoParseError(prefix + (decided or "; ".join(reasons)))


def _too_big(size: int) -> str:
    return (
        f"{size} bytes or more, more than the limit of {limits.MAX_FILE_BYTES} "
        "(caffe2lite.io.limits.MAX_FILE_BYTES)"
    )


def _read(path: str | os.PathLike) -> bytes:
    """The file's bytes; its size is checked before reading (and the read is
    capped, for files such as devices whose size stat does not tell)."""
    limit = limits.MAX_FILE_BYTES
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
                # /dev/null would read as an empty net, /dev/zero as 2 GiB of zeros.
                raise ProtoParseError(
                    f"cannot read {os.fspath(path)}: a device, not a file"
                )
            size = info.st_size
            if size > limit:
                raise ProtoParseError(
                    f"cannot read {os.fspath(path)}: {_too_big(size)}"
                )
            data = f.read(limit + 1)
    except OSError as e:
        raise ProtoParseError(
            f"cannot read {os.fspath(path)}: {e.strerror or e}"
        ) from None
    if len(data) > limit:
        raise ProtoParseError(f"cannot read {os.fspath(path)}: {_too_big(len(data))}")
    return data


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
        missing = ", ".join(msg.FindInitializationErrors())  # type: ignore[attr-defined]
        raise Caffe2LiteError(
            f"cannot write {os.fspath(path)}: {msg.DESCRIPTOR.full_name} is missing "
            f"required fields: {missing}"
        )
    # Never write what cannot be read back: the loaders' checks and limits.
    try:
        check_binary(msg.SerializeToString(), _descriptor(msg))
        data = (
            _to_text(msg).encode("utf-8")
            if _format_for(path) == "text"
            else msg.SerializeToString()
        )
    except WireProblem as e:
        raise Caffe2LiteError(f"cannot write {os.fspath(path)}: {e}") from None
    try:
        Path(path).write_bytes(data)
    except OSError as e:
        raise Caffe2LiteError(
            f"cannot write {os.fspath(path)}: {e.strerror or e}"
        ) from None


def _stack_depth() -> int:
    depth, frame = 0, cast("FrameType | None", sys._getframe())
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


@contextlib.contextmanager
def _recursion_room() -> Iterator[None]:
    """Room on Python's stack for protobuf's recursive text parser and printer to
    follow MAX_NESTING levels (about four frames a level), when it is raised."""
    old = sys.getrecursionlimit()
    need = _stack_depth() + 10 * limits.MAX_NESTING + 200
    if need > old:
        sys.setrecursionlimit(need)
    try:
        yield
    finally:
        if need > old and sys.getrecursionlimit() == need:
            sys.setrecursionlimit(old)


def _to_text(msg: Message) -> str:
    try:
        with _recursion_room():
            return text_format.MessageToString(msg)
    except RecursionError:
        raise WireProblem(
            "messages nested deeper than the text printer can follow", "limit"
        ) from None


def net_to_text(netdef: caffe2_pb2.NetDef) -> str:
    """A NetDef in protobuf text format, as ``.pbtxt`` files hold it."""
    try:
        return _to_text(netdef)
    except WireProblem as e:
        raise Caffe2LiteError(f"cannot print net {netdef.name!r}: {e}") from None
