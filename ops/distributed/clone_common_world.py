"""CloneCommonWorld: a new common world of the same ranks."""

from __future__ import annotations

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, world, world_shape


@register_cpu_operator(
    "CloneCommonWorld",
    inputs=["existing_comm_world"],
    outputs=["comm_world"],
    args=[Arg("sync", bool, False), Arg("status_blob", str, "")],
    shape=world_shape,
    example=Example({"existing_comm_world": CommonWorld(None)},
                    {"comm_world": CommonWorld(None)}),
    doc=f"""Clones an existing common world: the same ranks on a communicator of its own
(MPI_Comm_dup), so collectives on the two never mix. ``sync`` and ``status_blob``
are accepted and have no effect.

{WORLD_DOC}

Example: existing_comm_world=CommonWorld(rank=0, size=1) -> comm_world=CommonWorld(rank=0, size=1)""",
)
def clone_common_world(existing_comm_world, *, sync, status_blob) -> tuple:
    """A duplicate communicator."""
    return (world(existing_comm_world, "CloneCommonWorld").clone(),)


should_not_do_gradient("CloneCommonWorld")
