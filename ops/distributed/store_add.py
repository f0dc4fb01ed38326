"""StoreAdd: adds to a counter in a store."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_store import DictStoreHandler, handler
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape


@register_cpu_operator(
    "StoreAdd",
    inputs=["handler"],
    outputs=["value"],
    args=[Arg("blob_name", str, ""), Arg("add_value", int, 1)],
    shape=lambda *shapes, **kwargs: (TensorShape((), np.dtype(np.int64)),),
    example=Example({"handler": DictStoreHandler()}, {"value": np.array(3, np.int64)},
                    {"blob_name": "joined", "add_value": 3}),
    doc="""Adds ``add_value`` (default 1) to the counter ``blob_name`` (required) of a store,
atomically; a key not yet set starts at 0. Outputs the resulting value as an int64
scalar.

Example: a new counter, blob_name='joined', add_value=3 -> value=3 (int64)""",
)
def store_add(h, *, blob_name, add_value, op_def=None) -> tuple:
    """handler.add(key, value)."""
    if op_def is not None and not any(a.name == "blob_name" for a in op_def.arg):
        raise EnforceError("StoreAdd needs the blob_name argument (the counter's key)",
                           arg="blob_name", expected="a key", found="none")
    store = handler(h, "StoreAdd")
    return (np.array(store.add(blob_name, add_value), np.int64),)


should_not_do_gradient("StoreAdd")
