"""StoreGet: reads a blob from a store, waiting for it."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_store import DictStoreHandler, decode, encode, handler
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape


def store_get_shape(*shapes, **kwargs) -> tuple:
    """A bytes blob (what the store holds is not known before it runs)."""
    return (TensorShape((), np.dtype(object)),)


@register_cpu_operator(
    "StoreGet",
    inputs=["handler"],
    outputs=["data"],
    args=[Arg("blob_name", str, "")],
    shape=store_get_shape,
    example=Example({"handler": DictStoreHandler({"addr": encode(b"10.0.0.1:2345", "data")})},
                    {"data": b"10.0.0.1:2345"}, {"blob_name": "addr"}),
    doc="""Gets a blob from a store: the key is the output's blob name, or ``blob_name``
when given. Waits for the key (30 s, then "Wait timeout for name(s): ..."). A
tensor comes back as the tensor, bytes as bytes, a StoreAdd counter as its decimal
text. Shape inference cannot see the store: it answers a bytes blob (rendezvous
data, the usual value), though a stored tensor comes back as that tensor.

Example: a store holding addr=b'10.0.0.1:2345', blob_name='addr' -> data=b'10.0.0.1:2345'""",
)
def store_get(h, *, blob_name, op_def=None) -> tuple:
    """decode(handler.get(key))."""
    store = handler(h, "StoreGet")
    key = blob_name or (op_def.output[0] if op_def is not None else "data")
    return (decode(store.get(key)),)


should_not_do_gradient("StoreGet")
