"""MPIAllgather: every rank's X, concatenated along the first axis."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ._common import WORLD_DOC, names, tensor, world


def mpi_allgather_shape(world_shape, x, **kwargs) -> tuple:
    """The first dimension is multiplied by the number of ranks (known only at run)."""
    if x.dims is None or not x.dims:
        return (TensorShape(None, x.dtype),)
    return (TensorShape((f"{x.dims[0]}*size",) + tuple(x.dims[1:]), x.dtype),)


@register_cpu_operator(
    "MPIAllgather",
    inputs=["comm_world", "X"],
    outputs=["Y"],
    shape=mpi_allgather_shape,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([[1, 2]], np.float32)},
                    {"Y": np.array([[1, 2]], np.float32)}),
    doc=f"""Y = the X of every rank of comm_world concatenated along axis 0, in rank order
(MPI_Allgather; float32 as Caffe2 registered it): Y's first dimension is X's times
the number of ranks. X must have at least one dimension.

{WORLD_DOC}

Example: on 2 ranks, X=[[1, 2]] and X=[[3, 4]] -> Y=[[1, 2], [3, 4]] on both""",
)
def mpi_allgather(comm_world, x, *, op_def=None) -> tuple:
    """Concatenation over ranks."""
    w = world(comm_world, "MPIAllgather")
    x = tensor(x, "X", np.float32)
    if x.ndim == 0:
        raise ShapeError("MPIAllgather: X must have at least one dimension", blob="X",
                         expected="at least 1-D", found="0-D")
    w.check_same("MPIAllgather", list(zip(names(op_def, 1, 1), [x])))
    y = w.allgather(x, "MPIAllgather")
    return (y.reshape((w.size * x.shape[0],) + x.shape[1:]),)


should_not_do_gradient("MPIAllgather")
