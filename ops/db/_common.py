"""What the DB operators share: the workspace's root folder, full DB paths, and the
checks Caffe2 made when it created Save and Load."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.io.blobproto import (
    DEFAULT_CHUNK_SIZE,
    NO_CHUNKING,
    BlobSerializationOptions,
    SerializationOptions,
    blob_options,
    serialize_blob,
)
from caffe2lite.io.db import write_db


#: The DB record in which ``Checkpoint`` keeps the operators' generator states (a
#: string blob holding JSON); ``Load`` with ``load_all`` gives them back.
GENERATOR_RECORD = "!!GENERATOR_STATES"


def owner(outputs: Any) -> Any:
    """The workspace whose blobs the op runs on (None for a kernel called alone)."""
    from caffe2lite.runtime.workspace import owner_of

    return owner_of(getattr(outputs, "blobs", None))


def root_folder(outputs: Any) -> str:
    """The root folder of the workspace whose blobs the op runs on (Caffe2's
    ``ws->RootFolder()``); a kernel called on its own uses ``"."`` (the default root
    folder of every workspace)."""
    ws = owner(outputs)
    if ws is not None:
        return ws.root_folder
    return getattr(getattr(outputs, "blobs", None), "root_folder", ".")


def full_db_name(db: str, absolute_path: int, outputs: Any) -> str:
    """``db`` itself with ``absolute_path``, else ``<root folder>/<db>`` (Caffe2 joins
    the two with a '/' even when ``db`` starts with one)."""
    return db if absolute_path else f"{root_folder(outputs)}/{db}"


def require(value: Any, message: str, arg: str) -> None:
    """Caffe2's CAFFE_ENFORCE_GT(size, 0, message) on a string argument."""
    if not value:
        raise EnforceError(message, arg=arg, expected="a non-empty string", found=repr(value))


def effective_chunk_size(chunk_size: int) -> int:
    """Save's ``chunk_size`` argument as Caffe2 read it: -1 (the default) means its
    default of 1,000,000 elements, 0 means no chunking, a positive value is the
    chunk size."""
    if chunk_size == -1:
        return DEFAULT_CHUNK_SIZE
    if chunk_size == 0:
        return NO_CHUNKING
    if chunk_size < 0:
        raise ArgumentError("chunk_size must be -1 (default), 0 (no chunking) or a "
                            "positive number of elements", arg="chunk_size",
                            expected="-1, 0 or > 0", found=chunk_size)
    return chunk_size


def save_names(names: Sequence[str], strip_prefix: str,
               blob_name_overrides: Sequence[str]) -> list[str]:
    """The DB names of Save's inputs, checked as Caffe2's SaveOpImpl checked them."""
    if blob_name_overrides and len(blob_name_overrides) != len(names):
        raise EnforceError("Number of blobs and blob_name_overrides mismatch.",
                           arg="blob_name_overrides", expected=f"{len(names)} names",
                           found=len(blob_name_overrides))
    if blob_name_overrides and strip_prefix:
        raise EnforceError("strip_prefix and blob_name_overrides are mutually exclusive.",
                           arg="strip_prefix")
    if blob_name_overrides:
        return list(blob_name_overrides)
    out: list[str] = []
    for name in names:
        at = name.find(strip_prefix) if strip_prefix else -1
        stripped = name if at < 0 else name[at + len(strip_prefix):]
        if stripped in out:
            raise EnforceError(f"Duplicated input: {stripped}", blob=name)
        out.append(stripped)
    return out


def serialization_options(options: bytes, chunk_size: int) -> Any:
    """Save's ``options`` (a serialized SerializationOptions) with its ``chunk_size``
    argument appended as the last, catch-all entry, as Caffe2's SaveOpImpl did."""
    parsed = SerializationOptions()
    if options:
        # The checked loader: limits, UTF-8 and no other message type taken for it.
        from caffe2lite.errors import ProtoParseError
        from caffe2lite.io.protoio import parse_message

        try:
            parsed = parse_message(bytes(options), SerializationOptions,
                                   name="the options argument", fmt="binary")
        except ProtoParseError as e:
            raise EnforceError(f"unable to parse serialization options ({e})",
                               arg="options",
                               expected="a serialized SerializationOptions",
                               found=f"{len(options)} bytes") from None
    step = effective_chunk_size(chunk_size)
    parsed.options.append(BlobSerializationOptions(
        chunk_size=0 if step == DEFAULT_CHUNK_SIZE else -1 if step == NO_CHUNKING else step))
    return parsed


def save_blobs(values: Sequence[Any], names: Sequence[str], *, db: str, db_type: str,
               absolute_path: int, strip_prefix: str, blob_name_overrides: Sequence[str],
               chunk_size: int, outputs: Any, options: bytes = b"",
               extra: Sequence[tuple[str, bytes]] = ()) -> str:
    """Everything Save does; returns the full DB path written. All blobs are
    serialized before the DB is touched, and the DB is replaced atomically.
    ``extra`` are more ``(key, bytes)`` string blobs written after the inputs."""
    require(db_type, "Must specify a db type.", "db_type")
    keys = save_names(names, strip_prefix, blob_name_overrides)
    require(db, "Must specify a db name.", "db")
    settings = serialization_options(options, chunk_size)
    path = full_db_name(db, absolute_path, outputs)
    records = []
    for key, value in zip(keys, values):
        try:
            step, bfloat16 = blob_options(key, settings)
        except re.error as e:
            raise ArgumentError(f"blob_name_regex is not a regular expression: {e}",
                                arg="options") from None
        if step < 1 and step != NO_CHUNKING:
            raise ArgumentError("a chunk_size of the serialization options must be -1, 0 "
                                "or positive", arg="options", found=step)
        records.extend(serialize_blob(key, value, step, bfloat16))
    for key, value in extra:
        records.extend(serialize_blob(key, value, NO_CHUNKING, False))
    write_db(db_type, path, records)
    return path
