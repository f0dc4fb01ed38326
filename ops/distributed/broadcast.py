"""Broadcast (Gloo-named): the root's first input, into every input of every rank."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import SHIFTED_PAIRS, WORLD_DOC, names, root_rank, same_as_data, world
from .allreduce import outputs_match, same_local_inputs

_TYPES = (np.float32, np.float64, np.float16, np.int32, np.int64)


@register_cpu_operator(
    "Broadcast",
    inputs=["comm_world", "X"],
    outputs=["X"],
    num_inputs=(2, None),
    num_outputs=(1, None),
    enforce_inplace=SHIFTED_PAIRS,
    args=[Arg("root", int, 0), Arg("status_blob", str, "")],
    shape=same_as_data,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([1, 2], np.float32),
                     "X2": np.array([0, 0], np.float32)},
                    {"X": np.array([1, 2], np.float32), "X2": np.array([1, 2], np.float32)}),
    doc=f"""Does a broadcast from the root node to every other node: every tensor input of
every rank becomes the first tensor input of rank ``root``. In place, as Caffe2
required; the tensors must have been created beforehand with the same size and type
on every node (float32, float64, float16, int32 or int64). ``status_blob`` is
accepted and has no effect.

{WORLD_DOC}

Example: one rank, X=[1, 2], X2=[0, 0] -> X=[1, 2], X2=[1, 2]""",
)
def broadcast(comm_world, *xs, root, status_blob, num_outputs, op_def=None) -> tuple:
    """The root's first input everywhere (new arrays)."""
    w = world(comm_world, "Broadcast")
    same_local_inputs("Broadcast", xs, *_TYPES)
    outputs_match("Broadcast", len(xs), num_outputs)
    root_rank(root, w, "Broadcast")
    w.check_same("Broadcast", list(zip(names(op_def, 1, len(xs)), xs)))
    value = w.broadcast(xs[0], root, "Broadcast")
    return tuple(value.reshape(x.shape).copy() for x in xs)


should_not_do_gradient("Broadcast")
