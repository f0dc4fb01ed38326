"""RedisStoreHandlerCreate: a rendezvous store on a Redis server."""

from __future__ import annotations

from caffe2lite.distributed.redis_store import RedisStoreHandler
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._common import world_shape


@register_cpu_operator(
    "RedisStoreHandlerCreate",
    inputs=[],
    outputs=["handler"],
    num_inputs=0,
    num_outputs=1,
    args=[Arg("host", str, "", doc="host name of Redis server"),
          Arg("port", int, 0, doc="port number of Redis server"),
          Arg("prefix", str, "",
              doc="keys used by this instance are prefixed with this string")],
    shape=world_shape,
    example=Example({}, {"handler": RedisStoreHandler("localhost", 6379, "run7/")},
                    {"host": "localhost", "port": 6379, "prefix": "run7/"}),
    doc="""Creates a store handler that uses a Redis server as backing store, for the
Store* ops (StoreSet, StoreGet, StoreAdd, StoreWait) and CreateCommonWorld's
``kv_handler`` input. ``host`` and ``port`` are required; every key is ``prefix``
followed by the name (no separator is added), so runs sharing a server keep apart by
prefix. As in Caffe2: StoreSet is Redis SETNX and fails on a key already set, StoreAdd
is INCRBY (atomic), and waits poll EXISTS every 10 ms until "Wait timeout for
name(s): ...". Values are bytes (a tensor as its serialized TensorProto), never
pickles. The client is redis-py (the "redis" extra), connected on the first Store*
op (Caffe2 connected here; an unreachable server is then an error naming it).

Example: host='localhost', port=6379, prefix='run7/' -> handler=RedisStoreHandler('localhost', 6379, prefix='run7/')""",
)
def redis_store_handler_create(*, host, port, prefix) -> tuple:
    """A RedisStoreHandler on ``host:port``."""
    if not host:
        raise EnforceError("host is a required argument", arg="host",
                           expected="a host name", found="''")
    if port == 0:
        raise EnforceError("port is a required argument", arg="port",
                           expected="a port number", found=0)
    if not 0 < port < 65536:
        raise EnforceError(f"port {port} is not a TCP port", arg="port",
                           expected="1 <= port <= 65535", found=port)
    return (RedisStoreHandler(host, port, prefix),)


# Caffe2: NO_GRADIENT (written with the class name, RedisStoreHandlerCreateOp)
no_gradient("RedisStoreHandlerCreate")
