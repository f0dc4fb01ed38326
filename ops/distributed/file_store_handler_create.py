"""FileStoreHandlerCreate: a rendezvous store in a folder."""

from __future__ import annotations

import os
import tempfile

from caffe2lite.distributed.mpi_store import FileStoreHandler
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import world_shape

_EXAMPLE = os.path.join(tempfile.gettempdir(), "caffe2lite_store_example")


@register_cpu_operator(
    "FileStoreHandlerCreate",
    inputs=[],
    outputs=["handler"],
    num_inputs=0,
    num_outputs=1,
    args=[Arg("path", str, ""), Arg("prefix", str, "")],
    shape=world_shape,
    example=Example({}, {"handler": FileStoreHandler(_EXAMPLE)}, {"path": _EXAMPLE}),
    doc="""Creates a store handler on the folder ``path`` (keys under ``path/prefix``) for
the Store* ops and, in Caffe2, CreateCommonWorld's rendezvous (accepted there; MPI
needs none). Every process that sees the folder shares the store. Values are bytes
(a tensor as its serialized TensorProto), never pickles. The folder is made on the
first write.

Example: path='/tmp/store' -> handler=FileStoreHandler('/tmp/store', prefix='')""",
)
def file_store_handler_create(*, path, prefix) -> tuple:
    """A FileStoreHandler on ``path``."""
    if not path:
        raise EnforceError("path is a required argument", arg="path",
                           expected="a folder", found="''")
    return (FileStoreHandler(path, prefix),)


should_not_do_gradient("FileStoreHandlerCreate")
