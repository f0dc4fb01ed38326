"""StoreWait: waits until keys are set in a store."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_store import DictStoreHandler, handler
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient


@register_cpu_operator(
    "StoreWait",
    inputs=["handler", "names"],
    outputs=[],
    num_inputs=(1, 2),
    num_outputs=0,
    args=[Arg("blob_names", "strings", [])],
    shape=lambda *shapes, **kwargs: (),
    example=Example({"handler": DictStoreHandler({"a": b"B1"})}, {}, {"blob_names": ["a"]}),
    doc="""Waits for the given keys to be set in a store (30 s, then "Wait timeout for
name(s): ..."). The keys come from the ``names`` input (a string tensor) or the
``blob_names`` argument, not both.

Example: a store holding 'a', blob_names=['a'] -> () (returns at once)""",
)
def store_wait(h, *names, blob_names, op_def=None) -> tuple:
    """handler.wait(keys)."""
    store = handler(h, "StoreWait")
    keys = list(blob_names)
    if names:
        if op_def is not None and any(a.name == "blob_names" for a in op_def.arg):
            raise EnforceError("cannot specify both argument and input blob",
                               expected="names or blob_names", found="both")
        given = names[0]
        if not isinstance(given, np.ndarray) or given.dtype != object:
            raise EnforceError("StoreWait: names must be a string tensor", blob="names",
                               expected="strings", found=getattr(given, "dtype", type(given)))
        keys = [k.decode() if isinstance(k, bytes) else str(k) for k in given.reshape(-1)]
    store.wait(keys)
    return ()


should_not_do_gradient("StoreWait")
