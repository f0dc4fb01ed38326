"""A rendezvous store on a Redis server (Caffe2's RedisStoreHandler), carrying bytes.

Keys are ``prefix + name`` (no separator added, as in Caffe2); values are the bytes
the Store* ops encode (:mod:`caffe2lite.distributed.mpi_store`), never pickles:

- ``set``: ``SETNX``; a key already set is an error (a store is written once per
  run, and a reused prefix would otherwise mix two runs' values).
- ``get``: waits for the key, then ``GET``.
- ``add``: ``INCRBY`` (atomic on the server); the counter is Redis's decimal text.
- ``check``: ``EXISTS`` over every key; ``wait`` polls it every 10 ms until the
  keys exist or the timeout passes ("Wait timeout for name(s): ...").

The client is redis-py (the ``redis`` extra), imported and connected on the first
call, so a handler is a plain value that can be made, compared and shown without a
server (Caffe2 connected when RedisStoreHandlerCreate ran; here an unreachable
server is an error on the first Store* op, naming the address).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from caffe2lite.errors import EnforceError

DEFAULT_TIMEOUT_MS = 30000  # Caffe2's StoreHandler default wait
CONNECT_TIMEOUT_S = 5.0     # Caffe2's redisConnectWithTimeout
POLL_S = 0.01               # Caffe2 polled EXISTS every 10 ms
EXTRA = 'the Redis store needs the "redis" extra: pip install "caffe2lite[redis]" (redis-py)'


def redis_module() -> Any:
    """The ``redis`` package (redis-py), or an error naming the extra."""
    try:
        import redis
    except ImportError as e:
        raise EnforceError(f"{EXTRA} ({e})", expected="redis installed",
                           found="not importable") from None
    return redis


class RedisStoreHandler:
    """A store on the Redis server at ``host:port``, keys under ``prefix``."""

    def __init__(self, host: str, port: int, prefix: str = "") -> None:
        self.host = host
        self.port = int(port)
        self.prefix = prefix
        self._client: Any = None

    def __repr__(self) -> str:
        return f"RedisStoreHandler({self.host!r}, {self.port}, prefix={self.prefix!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RedisStoreHandler) and (self.host, self.port, self.prefix) == (
            other.host, other.port, other.prefix)

    __hash__ = object.__hash__

    def __getstate__(self) -> dict:  # a copy reconnects; a socket is not copied
        return {"host": self.host, "port": self.port, "prefix": self.prefix, "_client": None}

    def key(self, name: str) -> bytes:
        """Caffe2's compoundKey: ``prefix + name``."""
        return (self.prefix + name).encode()

    def _redis(self) -> Any:
        if self._client is None:
            redis = redis_module()
            self._client = redis.Redis(host=self.host, port=self.port,
                                       socket_connect_timeout=CONNECT_TIMEOUT_S,
                                       socket_timeout=DEFAULT_TIMEOUT_MS / 1000.0)
        return self._client

    def _do(self, what: str, *args: Any) -> Any:
        """One Redis command, its failures made clear errors naming the server."""
        client = self._redis()
        redis = redis_module()
        try:
            return client.execute_command(what, *args)
        except redis.exceptions.ResponseError as e:
            if what == "INCRBY":
                raise EnforceError(f"StoreAdd: key {args[0].decode(errors='replace')!r} does "
                                   f"not hold a counter ({e})", expected="decimal text",
                                   found="other bytes") from None
            raise EnforceError(f"Redis {what} failed at {self.host}:{self.port}: {e}",
                               expected="a reply", found="an error") from None
        except redis.exceptions.RedisError as e:
            raise EnforceError(
                f"cannot reach the Redis server at {self.host}:{self.port}: {e}",
                expected="a Redis server answering", found=type(e).__name__) from None

    def set(self, name: str, data: bytes) -> None:
        if self._do("SETNX", self.key(name), bytes(data)) != 1:
            raise EnforceError(f"Value at {name} was already set (perhaps you reused a run "
                               "ID you have used before?)", expected="a new key",
                               found="a key already set")

    def get(self, name: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> bytes:
        self.wait([name], timeout_ms)
        value = self._do("GET", self.key(name))
        if not isinstance(value, bytes):
            raise EnforceError(f"Redis GET of {name!r} found no value", expected="bytes",
                               found=type(value).__name__)
        return value

    def add(self, name: str, value: int) -> int:
        return int(self._do("INCRBY", self.key(name), int(value)))

    def check(self, names: Sequence[str]) -> bool:
        if not names:
            return True
        return int(self._do("EXISTS", *[self.key(n) for n in names])) == len(names)

    def wait(self, names: Sequence[str], timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        deadline = time.monotonic() + timeout_ms / 1000.0
        while not self.check(names):
            if timeout_ms >= 0 and time.monotonic() > deadline:
                raise EnforceError("Wait timeout for name(s): " + " ".join(names),
                                   expected=f"the keys within {timeout_ms} ms",
                                   found="missing")
            time.sleep(POLL_S)
