"""MPISendTensor: sends X's bytes to another rank."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, tensor, world

ANY_SOURCE, ANY_TAG = -2, -1  # MPICH's MPI_ANY_SOURCE and MPI_ANY_TAG, Caffe2's defaults


def scalar_int(value, blob: str) -> int:
    """An int32 tensor of one element (Caffe2 read data<int>()[0])."""
    t = tensor(value, blob, np.int32)
    if t.size != 1:
        raise EnforceError(f"{blob} must hold one int", blob=blob, expected="1 element",
                           found=f"{t.size} elements")
    return int(t.reshape(-1)[0])


@register_cpu_operator(
    "MPISendTensor",
    inputs=["comm_world", "X", "dst", "tag"],
    outputs=[],
    num_inputs=(2, 4),
    allowed_inputs=({2, 4}),
    num_outputs=0,
    args=[Arg("dst", int, ANY_SOURCE), Arg("tag", int, ANY_TAG), Arg("raw_buffer", bool, False)],
    shape=lambda *shapes, **kwargs: (),
    example=Example({"comm_world": CommonWorld(None), "X": np.array([1, 2], np.float32)}, {},
                    {"dst": 0, "tag": 0, "raw_buffer": True}),
    doc=f"""Sends X's bytes (``raw_buffer``: the receiver already knows X's shape and type;
Caffe2 implemented only that) to rank ``dst`` with tag ``tag`` (MPI_Send). The
``dst`` and ``tag`` inputs (int32 tensors of one element), when given, override the
arguments; one of the two must say each. In a world of one, rank 0 sends to itself
(the message waits for MPIReceiveTensor).

{WORLD_DOC}

Example: X=[1, 2] with dst=0, tag=0, raw_buffer=True -> () (X's 8 bytes go to rank 0)""",
)
def mpi_send_tensor(comm_world, x, *dst_tag, dst, tag, raw_buffer) -> tuple:
    """Send (bounded by the world's timeout)."""
    if not raw_buffer:
        raise EnforceError("non-raw-buffer transfer not supported yet.", arg="raw_buffer",
                           expected=True, found=False)
    if dst_tag:
        dst, tag = scalar_int(dst_tag[0], "dst"), scalar_int(dst_tag[1], "tag")
    if dst == ANY_SOURCE:
        raise EnforceError("You should explicitly specify the to rank either via argument "
                           "or via input blobs.", arg="dst", expected="a rank", found=dst)
    if tag == ANY_TAG:
        raise EnforceError("You should explicitly specify the tag either via argument or "
                           "via input blobs.", arg="tag", expected="a tag >= 0", found=tag)
    w = world(comm_world, "MPISendTensor")
    x = tensor(x, "X")
    if not 0 <= dst < w.size:
        raise EnforceError(f"MPISendTensor: dst {dst} is not a rank of the common world",
                           arg="dst", expected=f"0 <= dst < {w.size}", found=dst)
    if tag < 0:
        raise EnforceError(f"MPISendTensor: tag {tag} is negative", arg="tag",
                           expected="tag >= 0", found=tag)
    w.send(x, dst, tag, "MPISendTensor")
    return ()


should_not_do_gradient("MPISendTensor")
