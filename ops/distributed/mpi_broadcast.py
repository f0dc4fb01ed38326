"""MPIBroadcast: the root rank's X, on every rank (in place)."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, names, root_rank, same_as_data, tensor, world


@register_cpu_operator(
    "MPIBroadcast",
    inputs=["comm_world", "X"],
    outputs=["X"],
    args=[Arg("root", int, 0)],
    enforce_inplace=[(1, 0)],
    shape=same_as_data,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([5, 6], np.int64)},
                    {"X": np.array([5, 6], np.int64)}),
    doc=f"""Every rank's X becomes rank ``root``'s X (MPI_Bcast of its bytes, any type).
In place, as Caffe2 required: the output is input X, already allocated with the same
shape and type on every rank (the ranks check that first).

{WORLD_DOC}

Example: on 2 ranks, X=[5, 6] on rank 0 and X=[0, 0] on rank 1, root=0 -> X=[5, 6] on both""",
)
def mpi_broadcast(comm_world, x, *, root, op_def=None) -> tuple:
    """The root's bytes everywhere (a new array)."""
    w = world(comm_world, "MPIBroadcast")
    x = tensor(x, "X")
    if x.size == 0:
        raise EnforceError("Broadcast op uses in-place operation so the output should be "
                           "already allocated.", blob="X", expected="a non-empty tensor",
                           found=f"shape {x.shape}")
    root_rank(root, w, "MPIBroadcast")
    w.check_same("MPIBroadcast", list(zip(names(op_def, 1, 1), [x])))
    return (w.broadcast(x, root, "MPIBroadcast"),)


should_not_do_gradient("MPIBroadcast")
