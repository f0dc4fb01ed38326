"""Allgather (Gloo-named): every input of every rank, flattened into one vector."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape, dim_product

from ._common import WORLD_DOC, names, world
from .allreduce import same_local_inputs

_TYPES = (np.float32, np.float64, np.float16, np.int32, np.int64)


def allgather_shape(world_shape, *xs, **kwargs) -> tuple:
    """A vector of (inputs) * (elements of X) * (ranks, known at run) elements."""
    x = xs[0]
    if x.dims is None:
        return (TensorShape((f"{len(xs)}*n*size",), x.dtype),)
    return (TensorShape((f"{len(xs) * dim_product(x.dims)}*size",), x.dtype),)


@register_cpu_operator(
    "Allgather",
    inputs=["comm_world", "X"],
    outputs=["Y"],
    num_inputs=(2, None),
    num_outputs=1,
    args=[Arg("status_blob", str, "")],
    shape=allgather_shape,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([[1, 2]], np.float32),
                     "X2": np.array([[3, 4]], np.float32)},
                    {"Y": np.array([1, 2, 3, 4], np.float32)}),
    doc=f"""Does an allgather among the nodes: Y, the same on every rank, is a vector of
every tensor input of rank 0 (flattened, in order), then rank 1's, and so on; all
inputs of one op have the same size and type. ``status_blob`` is accepted and has
no effect.

{WORLD_DOC}

Example: one rank, X=[[1, 2]], X2=[[3, 4]] -> Y=[1, 2, 3, 4]""",
)
def allgather(comm_world, *xs, status_blob, op_def=None) -> tuple:
    """Rank-major concatenation of the flattened inputs."""
    w = world(comm_world, "Allgather")
    same_local_inputs("Allgather", xs, *_TYPES)
    w.check_same("Allgather", list(zip(names(op_def, 1, len(xs)), xs)))
    local = np.concatenate([x.reshape(-1) for x in xs])
    return (w.allgather(local, "Allgather").reshape(-1),)


should_not_do_gradient("Allgather")
