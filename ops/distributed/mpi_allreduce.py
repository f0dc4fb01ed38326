"""MPIAllreduce: the sum of X over every rank, on every rank."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from .._inplace import owned
from ._common import WORLD_DOC, names, same_as_data, tensor, world


@register_cpu_operator(
    "MPIAllreduce",
    inputs=["comm_world", "X"],
    outputs=["Y"],
    allow_inplace=[(1, 0)],
    shape=same_as_data,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([1, 2], np.float32)},
                    {"Y": np.array([1, 2], np.float32)}),
    doc=f"""Y = the sum of X over every rank of comm_world (MPI_Allreduce with SUM), the
same on every rank; float32 as Caffe2 registered it. Y may be X (in place).

{WORLD_DOC}

Example: on 2 ranks, X=[1, 2] and X=[3, 4] -> Y=[4, 6] on both; on one rank Y = X""",
)
def mpi_allreduce(comm_world, x, *, op_def=None, outputs=None) -> tuple:
    """Sum over ranks: one in-place MPI allreduce, into X's own memory when Y is X and
    nothing else references it, else into a copy of X."""
    w = world(comm_world, "MPIAllreduce")
    x = tensor(x, "X", np.float32)
    in_place = owned(x, outputs, 0)
    total = w.allreduce_checked(
        "MPIAllreduce", list(zip(names(op_def, 1, 1), [x])),
        (lambda: x) if in_place else (lambda: np.array(x, order="C", copy=True)))
    return (total,)


should_not_do_gradient("MPIAllreduce")
