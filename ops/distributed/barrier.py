"""Barrier: waits until every rank reached it."""

from __future__ import annotations

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, world


@register_cpu_operator(
    "Barrier",
    inputs=["comm_world"],
    outputs=[],
    num_inputs=1,
    num_outputs=0,
    args=[Arg("status_blob", str, "")],
    shape=lambda *shapes, **kwargs: (),
    example=Example({"comm_world": CommonWorld(None)}, {}),
    doc=f"""Does a barrier among the nodes: returns on every rank once every rank of
comm_world has reached it (MPI_Ibarrier, bounded by the world's timeout_ms).

{WORLD_DOC}

Example: comm_world=CommonWorld(rank=0, size=1) -> () (returns at once on one rank)""",
)
def barrier(comm_world, *, status_blob) -> tuple:
    """Wait for every rank."""
    world(comm_world, "Barrier").barrier("Barrier")
    return ()


should_not_do_gradient("Barrier")
