"""MPICreateCommonWorld: a common world over every rank of the MPI job."""

from __future__ import annotations

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, world_shape


@register_cpu_operator(
    "MPICreateCommonWorld",
    inputs=[],
    outputs=["comm_world"],
    num_inputs=0,
    num_outputs=1,
    shape=world_shape,
    example=Example({}, {"comm_world": CommonWorld(None)}),
    doc=f"""A common world with the topology of the global communicator: every rank
mpiexec started, in its order (Caffe2 duplicated its global MPI communicator). The
output is a CommonWorld object, not a tensor, for the MPI* collectives.

{WORLD_DOC}

Example: (outside mpiexec) -> comm_world=CommonWorld(rank=0, size=1)""",
)
def mpi_create_common_world() -> tuple:
    """A duplicate of MPI.COMM_WORLD (a world of one outside mpiexec)."""
    return (CommonWorld.create(op="MPICreateCommonWorld"),)


# Caffe2 declared no gradient for the MPI ops; asking for one is an error here.
should_not_do_gradient("MPICreateCommonWorld")
