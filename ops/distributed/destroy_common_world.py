"""DestroyCommonWorld: closes a common world."""

from __future__ import annotations

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import world, world_shape


def _closed() -> CommonWorld:
    w = CommonWorld(None)
    w.close()
    return w


@register_cpu_operator(
    "DestroyCommonWorld",
    inputs=["common_world"],
    outputs=["common_world"],
    enforce_inplace=[(0, 0)],
    shape=world_shape,
    example=Example({"common_world": CommonWorld(None)}, {"common_world": _closed()}),
    doc="""Closes all connections managed by a common world (in place): collectives on
it fail afterwards with an error saying it was destroyed. A blob that holds no
world (an empty blob in Caffe2) is left as it is.

Example: common_world=CommonWorld(rank=0, size=1) -> common_world=CommonWorld(rank=0, size=1, closed)""",
)
def destroy_common_world(common_world) -> tuple:
    """A closed copy of the world (the input object is not changed)."""
    if common_world is None:
        return (None,)
    w = world(common_world, "DestroyCommonWorld")
    closed = CommonWorld.__new__(CommonWorld)
    closed.__dict__.update(w.__dict__)
    closed.close()
    return (closed,)


should_not_do_gradient("DestroyCommonWorld")
