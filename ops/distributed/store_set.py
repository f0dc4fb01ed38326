"""StoreSet: puts a blob into a store."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_store import DictStoreHandler, encode, handler
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient


@register_cpu_operator(
    "StoreSet",
    inputs=["handler", "data"],
    outputs=[],
    num_outputs=0,
    args=[Arg("blob_name", str, "")],
    shape=lambda *shapes, **kwargs: (),
    example=Example({"handler": DictStoreHandler(), "data": np.array([1, 2], np.int64)}, {},
                    {"blob_name": "ids"}),
    doc="""Sets a blob in a store: the key is the data input's blob name, or
``blob_name`` when given; the value is the blob's data (a tensor as its serialized
TensorProto, a bytes/str blob as its bytes; other objects are refused, never
pickled).

Example: data=[1, 2] (int64) with blob_name='ids' -> () (the store holds 'ids')""",
)
def store_set(h, data, *, blob_name, op_def=None) -> tuple:
    """handler.set(key, bytes)."""
    store = handler(h, "StoreSet")
    key = blob_name or (op_def.input[1] if op_def is not None else "data")
    store.set(key, encode(data, "data"))
    return ()


should_not_do_gradient("StoreSet")
