"""MPIReceiveTensor: receives bytes from another rank into Y (in place)."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ._common import WORLD_DOC, tensor, world
from .mpi_send_tensor import ANY_SOURCE, ANY_TAG


def _world_with_message() -> CommonWorld:
    w = CommonWorld(None)
    w.mailbox.append((7, np.array([3, 4], np.float32).tobytes()))
    return w


def mpi_receive_tensor_shape(world_shape, y, **kwargs) -> tuple:
    return (y, TensorShape((), np.int32), TensorShape((), np.int32))


@register_cpu_operator(
    "MPIReceiveTensor",
    inputs=["comm_world", "Y"],
    outputs=["Y", "src", "tag"],
    enforce_inplace=[(1, 0)],
    args=[Arg("src", int, ANY_SOURCE), Arg("tag", int, ANY_TAG), Arg("raw_buffer", bool, False)],
    shape=mpi_receive_tensor_shape,
    example=Example({"comm_world": _world_with_message(), "Y": np.zeros(2, np.float32)},
                    {"Y": np.array([3, 4], np.float32), "src": np.array(0, np.int32),
                     "tag": np.array(7, np.int32)}, {"raw_buffer": True}),
    doc=f"""Receives a message (``raw_buffer``: only the bytes; Caffe2 implemented only that)
from rank ``src`` with tag ``tag`` (defaults: any source, any tag) into Y, which
must already have the message's size and the right type (in place). Also outputs
the sender's rank and the message's tag as int32 scalars. A message of another
size is an error (Caffe2 read it into Y's buffer, MPI truncating or leaving bytes).

{WORLD_DOC}

Example: a message [3, 4] (float32) sent by rank 0 with tag 7, Y=[0, 0] -> Y=[3, 4], src=0, tag=7""",
)
def mpi_receive_tensor(comm_world, y, *, src, tag, raw_buffer) -> tuple:
    """Receive (bounded by the world's timeout)."""
    if not raw_buffer:
        raise EnforceError("non-raw-buffer transfer not supported yet.", arg="raw_buffer",
                           expected=True, found=False)
    w = world(comm_world, "MPIReceiveTensor")
    y = tensor(y, "Y")
    if src != ANY_SOURCE and not 0 <= src < w.size:
        raise EnforceError(f"MPIReceiveTensor: src {src} is not a rank of the common world",
                           arg="src", expected=f"0 <= src < {w.size}", found=src)
    data, source, got_tag = w.receive(y, src, tag, "MPIReceiveTensor")
    return (data, np.array(source, np.int32), np.array(got_tag, np.int32))


should_not_do_gradient("MPIReceiveTensor")
