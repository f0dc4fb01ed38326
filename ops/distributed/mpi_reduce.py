"""MPIReduce: the sum of X over every rank, on the root rank."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, names, root_rank, same_as_data, tensor, world


@register_cpu_operator(
    "MPIReduce",
    inputs=["comm_world", "X"],
    outputs=["Y"],
    args=[Arg("root", int, 0)],
    shape=same_as_data,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([1, 2], np.float32)},
                    {"Y": np.array([1, 2], np.float32)}),
    doc=f"""Y = the sum of X over every rank of comm_world, on rank ``root`` (MPI_Reduce
with SUM; float32 as Caffe2 registered it). Other ranks get a Y of X's shape whose
values Caffe2 left undefined: here they are zeros.

{WORLD_DOC}

Example: on 2 ranks, X=[1, 2] and X=[3, 4], root=0 -> Y=[4, 6] on rank 0, [0, 0] on rank 1""",
)
def mpi_reduce(comm_world, x, *, root, op_def=None) -> tuple:
    """Sum over ranks into the root."""
    w = world(comm_world, "MPIReduce")
    x = tensor(x, "X", np.float32)
    root_rank(root, w, "MPIReduce")
    w.check_same("MPIReduce", list(zip(names(op_def, 1, 1), [x])))
    y = w.reduce_sum(x, root, "MPIReduce")
    return (y if w.rank == root else np.zeros_like(x),)


should_not_do_gradient("MPIReduce")
