"""RedisStoreHandlerCreate and the Store* ops on a real Redis server started on a free
loopback port: the ``redis-server`` binary when it is on PATH, else fakeredis's TCP
server; skipped with the reason when neither (or redis-py) is there."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed.redis_store import RedisStoreHandler
from caffe2lite.errors import EnforceError
from caffe2lite.workspace import Workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5).ping())
    except redis.exceptions.RedisError:
        return False


@pytest.fixture(scope="module")
def server():
    """(host, port) of a Redis server for this module's tests."""
    try:
        import redis  # noqa: F401
    except ImportError:
        pytest.skip("redis-py is not installed (the redis extra)")
    port = _free_port()
    binary = shutil.which("redis-server")
    if binary is not None:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not _answers(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"redis-server did not start on port {port}")
                time.sleep(0.02)
            yield "127.0.0.1", port
        finally:
            proc.kill()
            proc.wait()
        return
    try:
        from fakeredis import TcpFakeServer
    except ImportError:
        pytest.skip("no redis-server on PATH and no fakeredis TcpFakeServer")
    import threading

    fake = TcpFakeServer(("127.0.0.1", port))
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", port
    finally:
        fake.shutdown()
        fake.server_close()


@pytest.fixture
def prefix() -> str:
    return f"{uuid.uuid4()}/"  # each test its own keys, as Caffe2's test used a uuid


def _handler(ws: Workspace, host: str, port: int, prefix: str, blob: str = "h") -> str:
    ws.run_operator_once(CreateOperator("RedisStoreHandlerCreate", [], [blob], host=host,
                                        port=port, prefix=prefix))
    return blob


def test_creates_a_handler_without_touching_the_server():
    ws = Workspace()
    _handler(ws, "localhost", 1, "p/")
    h = ws.fetch_blob("h")
    assert h == RedisStoreHandler("localhost", 1, "p/") and h._client is None


@pytest.mark.parametrize("args, message", [
    ({"port": 6379}, "host is a required argument"),
    ({"host": "localhost"}, "port is a required argument"),
    ({"host": "localhost", "port": 70000}, "port 70000 is not a TCP port"),
])
def test_required_arguments(args, message):
    with pytest.raises(EnforceError, match=message):
        Workspace().run_operator_once(CreateOperator("RedisStoreHandlerCreate", [], ["h"],
                                                     **args))


def test_set_get_tensors_and_bytes(server, prefix):
    """Caffe2's StoreOpsTests.test_set_get: a blob set under its name comes back."""
    ws = Workspace()
    h = _handler(ws, *server, prefix)
    ws.feed_blob("data", np.array([[1.5, 2.0], [3.0, -4.0]], np.float32))
    ws.run_operator_once(CreateOperator("StoreSet", [h, "data"], []))
    ws.feed_blob("addr", b"10.0.0.1:2345")
    ws.run_operator_once(CreateOperator("StoreSet", [h, "addr"], [], blob_name="address"))
    other = Workspace()
    h2 = _handler(other, *server, prefix)
    other.run_operator_once(CreateOperator("StoreGet", [h2], ["data"]))
    other.run_operator_once(CreateOperator("StoreGet", [h2], ["a"], blob_name="address"))
    got = other.fetch_blob("data")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, ws.fetch_blob("data"))
    assert other.fetch_blob("a") == b"10.0.0.1:2345"
    # the key is prefix + name, the value bytes (never a pickle)
    import redis

    raw = redis.Redis(host=server[0], port=server[1]).get(prefix + "address")
    assert raw == b"B10.0.0.1:2345"


def test_a_key_is_set_once(server, prefix):
    ws = Workspace()
    h = _handler(ws, *server, prefix)
    ws.feed_blob("x", b"one")
    ws.run_operator_once(CreateOperator("StoreSet", [h, "x"], []))
    with pytest.raises(EnforceError, match=r"Value at x was already set \(perhaps you "
                                           r"reused a run ID you have used before\?\)"):
        ws.run_operator_once(CreateOperator("StoreSet", [h, "x"], []))


def test_add_counts_atomically_from_zero(server, prefix):
    ws = Workspace()
    h = _handler(ws, *server, prefix)
    ws.run_operator_once(CreateOperator("StoreAdd", [h], ["v"], blob_name="joined"))
    assert ws.fetch_blob("v") == 1 and ws.fetch_blob("v").dtype == np.int64
    ws.run_operator_once(CreateOperator("StoreAdd", [h], ["v"], blob_name="joined",
                                        add_value=5))
    assert ws.fetch_blob("v") == 6
    ws.run_operator_once(CreateOperator("StoreGet", [h], ["text"], blob_name="joined"))
    assert ws.fetch_blob("text") == b"6"  # the counter as decimal text, as in the file store
    ws.feed_blob("s", b"not a number")
    ws.run_operator_once(CreateOperator("StoreSet", [h, "s"], []))
    with pytest.raises(EnforceError, match="StoreAdd: key '.*s' does not hold a counter"):
        ws.run_operator_once(CreateOperator("StoreAdd", [h], ["v"], blob_name="s"))


def test_wait_returns_once_keys_exist_and_times_out_naming_them(server, prefix):
    ws = Workspace()
    h = _handler(ws, *server, prefix)
    ws.feed_blob("a", b"1")
    ws.run_operator_once(CreateOperator("StoreSet", [h, "a"], []))
    ws.run_operator_once(CreateOperator("StoreWait", [h], [], blob_names=["a"]))
    handler = ws.fetch_blob(h)
    assert handler.check(["a"]) and not handler.check(["a", "b"])
    start = time.monotonic()
    with pytest.raises(EnforceError, match=r"Wait timeout for name\(s\): a b c"):
        handler.wait(["a", "b", "c"], timeout_ms=50)
    assert time.monotonic() - start < 2
    with pytest.raises(EnforceError, match=r"Wait timeout for name\(s\): nope"):
        handler.get("nope", timeout_ms=30)


def test_get_waits_for_a_key_set_later(server, prefix):
    import threading

    h = RedisStoreHandler(*server, prefix)
    later = threading.Timer(0.1, lambda: RedisStoreHandler(*server, prefix).set("k", b"v"))
    later.start()
    try:
        assert h.get("k", timeout_ms=5000) == b"v"
    finally:
        later.join()


def test_prefixes_keep_runs_apart(server, prefix):
    one, two = RedisStoreHandler(*server, prefix + "a/"), RedisStoreHandler(*server, prefix + "b/")
    one.set("rank0", b"first")
    two.set("rank0", b"second")
    assert one.get("rank0") == b"first" and two.get("rank0") == b"second"
    assert one.add("n", 2) == 2 and two.add("n", 5) == 5 and one.add("n", 1) == 3
    assert not RedisStoreHandler(*server, prefix + "c/").check(["rank0"])


def test_an_unreachable_server_is_a_clear_error_on_first_use():
    pytest.importorskip("redis", reason="redis-py is not installed (the redis extra)")
    h = RedisStoreHandler("127.0.0.1", _free_port(), "p/")
    with pytest.raises(EnforceError, match=r"cannot reach the Redis server at 127\.0\.0\.1:"):
        h.set("x", b"1")


def test_without_redis_py_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(EnforceError, match=r'needs the "redis" extra: pip install '
                                           r'"caffe2lite\[redis\]"'):
        RedisStoreHandler("localhost", 6379).check(["x"])


def test_two_ranks_meet_through_redis(server, prefix, ranks):
    """A 2-rank rendezvous: each rank publishes its address, counts itself in, waits for
    the other, reads its address back, and the common world made with the handler as
    kv_handler allreduces."""
    host, port = server
    res = ranks(2, f'''
run("RedisStoreHandlerCreate", [], ["store"], host={host!r}, port={port}, prefix={prefix!r})
''' + '''
workspace.FeedBlob("addr", ("rank-%d-address" % RANK).encode())
run("StoreSet", ["store", "addr"], [], blob_name="addr_%d" % RANK)
run("StoreAdd", ["store"], ["joined"], blob_name="joined")
run("StoreWait", ["store"], [], blob_names=["addr_0", "addr_1"])
run("StoreGet", ["store"], ["peer"], blob_name="addr_%d" % (1 - RANK))
run("CreateCommonWorld", ["store"], ["cw2"], name="cw2", size=SIZE, rank=RANK,
    timeout_ms=20000)
workspace.FeedBlob("x", np.full(3, RANK + 1.0, np.float32))
run("Allreduce", ["cw2", "x"], ["x"])
report(peer=workspace.FetchBlob("peer").decode(), joined=int(workspace.FetchBlob("joined")),
       x=workspace.FetchBlob("x"))
''', timeout=60)
    assert res.returncode == 0, res.stderr
    by_rank = res.by_rank()
    assert sorted(by_rank) == [0, 1]
    assert by_rank[0]["peer"] == "rank-1-address" and by_rank[1]["peer"] == "rank-0-address"
    assert sorted(r["joined"] for r in by_rank.values()) == [1, 2]
    assert all(r["x"] == [3.0, 3.0, 3.0] for r in by_rank.values())
