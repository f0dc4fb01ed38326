"""Key/value stores for rendezvous data (Caffe2's StoreHandler), carrying bytes.

A value is stored as bytes: a tensor as its serialized TensorProto (marker ``T``),
a bytes/str blob as itself (marker ``B``), a counter of StoreAdd as its decimal
text. Nothing is pickled. :class:`FileStoreHandler` keeps one file per key under
``path/prefix`` (written to a temporary file and renamed, so readers never see half
a value; counters are updated under an exclusive lock), which every process that
shares the folder (one machine, or a shared file system) sees.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.io.tensor import numpy_to_tensor, tensor_to_numpy
from caffe2lite.proto.caffe2_pb2 import TensorProto

DEFAULT_TIMEOUT_MS = 30000  # Caffe2's StoreHandler default wait


def encode(value: Any, blob: str) -> bytes:
    """A blob value as stored bytes."""
    if isinstance(value, np.ndarray):
        return b"T" + numpy_to_tensor(value).SerializeToString()
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"B" + value
    raise EnforceError("StoreSet: only tensors and bytes/str blobs can be stored",
                       blob=blob, expected="a tensor or bytes", found=type(value).__name__)


def decode(data: bytes) -> Any:
    """Stored bytes as a blob value (a counter's decimal text stays bytes)."""
    if data[:1] == b"T":  # another process wrote it: the loaders' checks apply
        from caffe2lite.io.protoio import parse_message

        return tensor_to_numpy(parse_message(data[1:], TensorProto, name="a stored tensor",
                                             fmt="binary"))
    if data[:1] == b"B":
        return data[1:]
    return data


class FileStoreHandler:
    """A store in a folder (Caffe2's FileStoreHandler)."""

    def __init__(self, path: str, prefix: str = "") -> None:
        self.path = path
        self.prefix = prefix
        self.folder = os.path.join(path, prefix) if prefix else path

    def __repr__(self) -> str:
        return f"FileStoreHandler({self.path!r}, prefix={self.prefix!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileStoreHandler) and (self.path, self.prefix) == (
            other.path, other.prefix)

    __hash__ = object.__hash__

    def _file(self, name: str) -> str:
        return os.path.join(self.folder, name.encode().hex() or "_")

    def set(self, name: str, data: bytes) -> None:
        os.makedirs(self.folder, exist_ok=True)
        target = self._file(name)
        tmp = f"{target}.tmp{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, target)

    def get(self, name: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> bytes:
        self.wait([name], timeout_ms)
        with open(self._file(name), "rb") as f:
            return f.read()

    def add(self, name: str, value: int) -> int:
        os.makedirs(self.folder, exist_ok=True)
        with open(os.path.join(self.folder, ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    with open(self._file(name), "rb") as f:
                        current = int(f.read() or b"0")
                except FileNotFoundError:
                    current = 0
                except ValueError:
                    raise EnforceError(f"StoreAdd: key {name!r} does not hold a counter",
                                       expected="decimal text", found="other bytes") from None
                self.set(name, str(current + value).encode())
                return current + value
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def check(self, names: Sequence[str]) -> bool:
        return all(os.path.exists(self._file(n)) for n in names)

    def wait(self, names: Sequence[str], timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        deadline = time.monotonic() + timeout_ms / 1000.0
        pause = 0.001
        while not self.check(names):
            if time.monotonic() > deadline:
                missing = [n for n in names if not os.path.exists(self._file(n))]
                raise EnforceError("Wait timeout for name(s): " + " ".join(missing),
                                   expected=f"the keys within {timeout_ms} ms",
                                   found="missing")
            time.sleep(pause)
            pause = min(0.05, pause * 2)


class DictStoreHandler:
    """A store inside one process (examples and tests): the same methods, a dict."""

    def __init__(self, items: dict[str, bytes] | None = None) -> None:
        self.items = dict(items or {})

    def __repr__(self) -> str:
        return f"DictStoreHandler({sorted(self.items)})"

    def set(self, name: str, data: bytes) -> None:
        self.items[name] = bytes(data)

    def get(self, name: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> bytes:
        self.wait([name], 0)
        return self.items[name]

    def add(self, name: str, value: int) -> int:
        current = int(self.items.get(name, b"0")) + value
        self.items[name] = str(current).encode()
        return current

    def check(self, names: Sequence[str]) -> bool:
        return all(n in self.items for n in names)

    def wait(self, names: Sequence[str], timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        missing = [n for n in names if n not in self.items]
        if missing:  # nothing else in this process could set them
            raise EnforceError("Wait timeout for name(s): " + " ".join(missing),
                               expected="the keys set", found="missing")


def handler(value: Any, op: str) -> FileStoreHandler:
    """Input 0 of the Store* ops must be a store handler."""
    if not hasattr(value, "get") or not hasattr(value, "wait") or isinstance(value, dict):
        raise EnforceError(f"{op}: input 0 must be a store handler (FileStoreHandlerCreate)",
                           blob="handler", expected="a store handler",
                           found=type(value).__name__)
    return value
