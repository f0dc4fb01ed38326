"""CreateCommonWorld: the common world of the Gloo-named collectives, on MPI."""

from __future__ import annotations

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import WORLD_DOC, world_shape


@register_cpu_operator(
    "CreateCommonWorld",
    inputs=["kv_handler"],
    outputs=["comm_world"],
    num_inputs=(0, 1),
    num_outputs=1,
    args=[Arg("size", int, 0), Arg("rank", int, 0), Arg("sync", bool, False),
          Arg("status_blob", str, ""), Arg("timeout_ms", int, -1),
          Arg("transport", str, "tcp"), Arg("interface", str, ""),
          Arg("mpi_rendezvous", bool, False)],
    shape=world_shape,
    example=Example({}, {"comm_world": CommonWorld(None)},
                    {"name": "cw", "size": 1, "rank": 0}),
    doc=f"""Creates a common world for the communication operators (Allreduce, Broadcast,
Barrier, Allgather ...), which data_parallel_model emits with engine GLOO. Caffe2
connected the ranks through the optional ``kv_handler`` store; here the engine is
MPI, so the world is the ranks mpiexec started and ``size`` / ``rank`` must equal
the MPI world's size and this process's rank (checked). The op must have a name, as
in Caffe2. ``timeout_ms`` bounds every collective on this world (-1: 30 s);
``sync``, ``status_blob``, ``transport``, ``interface`` and ``mpi_rendezvous``
(which data_parallel_model passes on from its rendezvous) are accepted and have no
effect.

{WORLD_DOC}

Example: name='cw', size=1, rank=0 (outside mpiexec) -> comm_world=CommonWorld(rank=0, size=1)""",
)
def create_common_world(*kv_handler, size, rank, sync, status_blob, timeout_ms,
                        transport, interface, mpi_rendezvous, op_def=None) -> tuple:
    """The MPI world, checked against ``size`` and ``rank``."""
    if op_def is not None and not op_def.name:
        raise EnforceError("CreateCommonWorld operator requires name",
                           expected="an operator name", found="''")
    if not 0 <= rank < size:
        raise EnforceError("rank_ >= 0 && rank_ < size_", condition="rank_ >= 0 && rank_ < size_",
                           arg="rank", expected=f"0 <= rank < size ({size})", found=rank)
    w = CommonWorld.create(name=op_def.name if op_def is not None else "",
                           timeout_ms=timeout_ms)
    if (size, rank) != (w.size, w.rank):
        raise EnforceError(
            f"CreateCommonWorld: size {size} and rank {rank} do not match the MPI world "
            f"(size {w.size}, this process is rank {w.rank}); start one process per rank "
            f"with mpiexec -n {size}", arg="size",
            expected=f"size={w.size}, rank={w.rank}", found=f"size={size}, rank={rank}")
    return (w,)


should_not_do_gradient("CreateCommonWorld")
