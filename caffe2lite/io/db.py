"""Caffe2's key-value DBs: ``minidb`` here, ``lmdb`` / ``leveldb`` / ``rocksdb``
through their Python bindings when installed.

``minidb`` is Caffe2's own file format (caffe2/core/db.cc): a file of records, each

    int32 key length | int32 value length | key bytes | value bytes

with both lengths little-endian and greater than 0, one after another to the end of
the file, nothing before or after. Keys are blob keys (``w#%0``), values serialized
``BlobProto`` messages (:mod:`caffe2lite.io.blobproto`). A truncated or corrupt file
raises :class:`~caffe2lite.errors.ProtoParseError` naming the file and the byte
offset of the bad record.

Writes replace the whole DB (Caffe2's ``NEW`` mode) and are atomic: a minidb is
written to a temporary file in the same folder, flushed to disk (fsync), then renamed
over the old file, so a crash leaves either the old file or the new one, never a file
that loads as a wrong model. The other types write every record, and delete the old
ones, in one transaction of their engine.

The bindings (``lmdb``, ``plyvel`` for leveldb, ``rocksdict`` for rocksdb) are
imported only when used; without them a clear error names the extra to install.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from caffe2lite.errors import (
    Caffe2LiteError,
    EnforceError,
    ProtoParseError,
    did_you_mean,
)

Record = tuple[str, bytes]

_HEADER = struct.Struct("<ii")
_INT32_MAX = 2**31 - 1

# db type -> (module to import, extra that installs it)
BINDINGS = {"lmdb": ("lmdb", "lmdb"), "leveldb": ("plyvel", "leveldb"),
            "rocksdb": ("rocksdict", "rocksdb")}
DB_TYPES = ("minidb",) + tuple(BINDINGS)


class MissingDBBindingError(Caffe2LiteError):
    """A DB type whose Python binding is not installed."""


def _binding(db_type: str) -> Any:
    module, extra = BINDINGS[db_type]
    try:
        return __import__(module)
    except ImportError:
        raise MissingDBBindingError(
            f"db type {db_type!r} needs the Python package {module!r}, which is not "
            f'installed; install it with: pip install "caffe2lite[{extra}]"') from None


def check_db_type(db_type: str, path: str = "") -> str:
    """``db_type`` if caffe2lite knows it; else Caffe2's message, with close names."""
    if db_type not in DB_TYPES:
        raise EnforceError(
            f"Cannot find db implementation of type {db_type}"
            + (f" (while trying to open {path})" if path else "")
            + did_you_mean(db_type, DB_TYPES),
            arg="db_type", expected=f"one of {', '.join(DB_TYPES)}", found=repr(db_type))
    return db_type


# -- minidb -----------------------------------------------------------------------------


def encode_minidb(records: Iterable[Record]) -> bytes:
    """The bytes of a minidb holding ``records`` in order.

    >>> encode_minidb([("k", b"vv")])
    b'\\x01\\x00\\x00\\x00\\x02\\x00\\x00\\x00kvv'
    """
    return b"".join(_minidb_record(k, v) for k, v in records)


def _minidb_record(key: str, value: bytes) -> bytes:
    kb = key.encode("utf-8")
    if not 0 < len(kb) <= _INT32_MAX or not 0 < len(value) <= _INT32_MAX:
        raise EnforceError(
            "a minidb record needs a key and a value of 1 to 2**31 - 1 bytes",
            expected="1 <= length <= 2147483647",
            found=f"key {len(kb)} bytes, value {len(value)} bytes (key {key!r})")
    return _HEADER.pack(len(kb), len(value)) + kb + bytes(value)


def decode_minidb(data: bytes, path: str = "<bytes>") -> list[Record]:
    """The records of a minidb's bytes, in file order; errors name ``path`` and the
    offset of the record that is bad."""
    records, offset, size = [], 0, len(data)
    view = memoryview(data)
    while offset < size:
        if size - offset < _HEADER.size:
            raise ProtoParseError(
                f"{path}: truncated minidb record at offset {offset}: "
                f"{size - offset} bytes left, a record header needs {_HEADER.size}")
        key_len, value_len = _HEADER.unpack_from(data, offset)
        if key_len <= 0 or value_len <= 0:
            raise ProtoParseError(
                f"{path}: corrupt minidb record at offset {offset}: key length "
                f"{key_len} and value length {value_len} must both be > 0")
        start = offset + _HEADER.size
        end = start + key_len + value_len
        if end > size:
            raise ProtoParseError(
                f"{path}: truncated minidb record at offset {offset}: it needs "
                f"{end - offset} bytes, the file ends {size - offset} bytes after it "
                "starts")
        try:
            key = bytes(view[start:start + key_len]).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtoParseError(
                f"{path}: corrupt minidb record at offset {offset}: the key is not "
                "UTF-8 text") from None
        records.append((key, bytes(view[start + key_len:end])))
        offset = end
    return records


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str, data: bytes,
                 _before_rename: Callable[[str], None] | None = None) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one:
    a temporary file in the same folder, fsync, rename over ``path``, fsync of the
    folder. ``_before_rename`` (tests) is called with the temporary file's path."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise EnforceError(f"Cannot open file: {path}", expected="an existing folder",
                           found=f"no folder {folder}")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if _before_rename is not None:
            _before_rename(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# -- every type -------------------------------------------------------------------------


def read_db(db_type: str, path: str) -> list[Record]:
    """Every ``(key, value)`` of the DB at ``path``: file order for minidb, key order
    for the others (as their cursors gave them)."""
    check_db_type(db_type, path)
    if db_type == "minidb":
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise EnforceError(f"Cannot open file: {path}",
                               found=e.strerror or type(e).__name__) from None
        return decode_minidb(data, path)
    if not db_exists(db_type, path):
        raise EnforceError(f"Cannot open {db_type} db: {path}", found="no such db")
    return [(_key_text(k, path), bytes(v)) for k, v in _READERS[db_type](path)]


def write_db(db_type: str, path: str, records: Iterable[Record],
             _before_rename: Callable[[str], None] | None = None) -> None:
    """Replace the DB at ``path`` by one holding ``records`` (Caffe2's NEW mode),
    atomically."""
    check_db_type(db_type, path)
    records = list(records)
    if db_type == "minidb":
        atomic_write(path, encode_minidb(records), _before_rename)
        return
    pairs = []
    for key, value in records:
        _minidb_record(key, value)  # the same limits for every type
        pairs.append((key.encode("utf-8"), bytes(value)))
    _WRITERS[db_type](path, pairs)


def db_exists(db_type: str, path: str) -> bool:
    """Whether a DB of ``db_type`` can be opened for reading at ``path`` (Caffe2's
    ``DBExists``)."""
    check_db_type(db_type, path)
    if db_type == "minidb":
        return os.path.isfile(path) and os.access(path, os.R_OK)
    _binding(db_type)
    if not os.path.isdir(path):
        return False
    try:
        for _ in _READERS[db_type](path, limit=0):
            pass
    except Exception:  # noqa: BLE001  (each binding has its own errors; any means "no")
        return False
    return True


def _key_text(key: bytes, path: str) -> str:
    try:
        return bytes(key).decode("utf-8")
    except UnicodeDecodeError:
        raise ProtoParseError(f"{path}: a key is not UTF-8 text: {bytes(key)[:40]!r}") from None


def _read_lmdb(path: str, limit: int | None = None) -> list[tuple[bytes, bytes]]:
    lmdb = _binding("lmdb")
    env = lmdb.open(path, readonly=True, lock=False, create=False, subdir=True)
    try:
        with env.begin() as txn:
            out: list[tuple[bytes, bytes]] = []
            for key, value in txn.cursor():
                if limit is not None and len(out) >= limit:
                    break
                out.append((bytes(key), bytes(value)))
            return out
    finally:
        env.close()


def _write_lmdb(path: str, pairs: list[tuple[bytes, bytes]]) -> None:
    lmdb = _binding("lmdb")
    size = sum(len(k) + len(v) for k, v in pairs)
    if os.path.isfile(os.path.join(path, "data.mdb")):
        size += os.path.getsize(os.path.join(path, "data.mdb"))
    env = lmdb.open(path, map_size=max(2 * size + (1 << 22), 1 << 24), subdir=True)
    try:
        with env.begin(write=True) as txn:
            txn.drop(env.open_db(), delete=False)
            for key, value in pairs:
                txn.put(key, value)
        env.sync(True)
    finally:
        env.close()


def _read_leveldb(path: str, limit: int | None = None) -> list[tuple[bytes, bytes]]:
    plyvel = _binding("leveldb")
    db = plyvel.DB(path, create_if_missing=False)
    try:
        out: list[tuple[bytes, bytes]] = []
        for key, value in db:
            if limit is not None and len(out) >= limit:
                break
            out.append((key, value))
        return out
    finally:
        db.close()


def _write_leveldb(path: str, pairs: list[tuple[bytes, bytes]]) -> None:
    plyvel = _binding("leveldb")
    db = plyvel.DB(path, create_if_missing=True)
    try:
        with db.write_batch(transaction=True, sync=True) as batch:
            for key in db.iterator(include_value=False):
                batch.delete(key)
            for key, value in pairs:
                batch.put(key, value)
    finally:
        db.close()


def _read_rocksdb(path: str, limit: int | None = None) -> list[tuple[bytes, bytes]]:
    rocksdict = _binding("rocksdb")
    db = rocksdict.Rdict(path, options=rocksdict.Options(raw_mode=True),
                         access_type=rocksdict.AccessType.read_only())
    try:
        out: list[tuple[bytes, bytes]] = []
        for key, value in db.items():
            if limit is not None and len(out) >= limit:
                break
            out.append((bytes(key), bytes(value)))
        return out
    finally:
        db.close()


def _write_rocksdb(path: str, pairs: list[tuple[bytes, bytes]]) -> None:
    rocksdict = _binding("rocksdb")
    db = rocksdict.Rdict(path, options=rocksdict.Options(raw_mode=True))
    try:
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key in list(db.keys()):
            batch.delete(key)
        for key, value in pairs:
            batch.put(key, value)
        options = rocksdict.WriteOptions()
        options.sync = True
        db.write(batch, options)
    finally:
        db.close()


_READERS = {"lmdb": _read_lmdb, "leveldb": _read_leveldb, "rocksdb": _read_rocksdb}
_WRITERS = {"lmdb": _write_lmdb, "leveldb": _write_leveldb, "rocksdb": _write_rocksdb}


class DBReader:
    """Caffe2's ``DBReader`` blob: a DB opened for reading, whose records ``Load``
    takes when given readers as inputs. The DB is read when its records are first
    asked for (and kept). ``DBReader.from_records`` keeps records made in memory.

    >>> DBReader.from_records([("x", b"v")]).records
    [('x', b'v')]
    """

    def __init__(self, db_type: str, source: str) -> None:
        check_db_type(db_type, source)
        self.db_type, self.source = db_type, source
        self._records: list[Record] | None = None

    @property
    def records(self) -> list[Record]:
        if self._records is None:
            self._records = read_db(self.db_type, self.source)
        return self._records

    @classmethod
    def from_records(cls, records: Iterable[Record], source: str = "<memory>") -> DBReader:
        reader = cls.__new__(cls)
        reader.db_type, reader.source, reader._records = "memory", source, list(records)
        return reader

    def __repr__(self) -> str:
        return f"DBReader({self.db_type!r}, {self.source!r})"
