"""ReduceScatter (Gloo-named, on MPI): each rank gets its segment of the sum."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import SHIFTED_PAIRS, WORLD_DOC, names, same_as_data, tensor, world
from .allreduce import outputs_match, same_local_inputs


@register_cpu_operator(
    "ReduceScatter",
    inputs=["comm_world", "X"],
    outputs=["Y"],
    num_inputs=(3, None),
    num_outputs=(2, None),
    enforce_inplace=SHIFTED_PAIRS,
    args=[Arg("status_blob", str, "")],
    shape=same_as_data,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([1, 2, 3], np.float32),
                     "X2": np.array([10, 20, 30], np.float32),
                     "recv_counts": np.array([3], np.int32)},
                    {"X": np.array([11, 22, 33], np.float32),
                     "X2": np.array([11, 22, 33], np.float32),
                     "recv_counts": np.array([3], np.int32)}),
    doc=f"""Does a reduce-scatter among the nodes (sum only). The inputs are the common
world, the tensors X (all of one size and type, float32 or float16) and last
``recv_counts``, an int32 vector with one count per rank that adds up to X's size.
Every tensor of rank r (in place) gets, at elements [sum(recv_counts[:r]),
sum(recv_counts[:r+1])), the sum of those elements over every tensor of every rank;
its other elements, which Gloo left partly reduced, are zero here. recv_counts is
passed through (in place, as Caffe2's schema pairs it with the last output).
``status_blob`` is accepted and has no effect.

{WORLD_DOC}

Example: one rank, X=[1, 2, 3], X2=[10, 20, 30], recv_counts=[3] -> X=X2=[11, 22, 33]""",
)
def reduce_scatter(comm_world, *inputs, status_blob, num_outputs, op_def=None) -> tuple:
    """Local sum, then MPI reduce-scatter of the segments."""
    w = world(comm_world, "ReduceScatter")
    xs, counts = inputs[:-1], tensor(inputs[-1], "recv_counts", np.int32)
    same_local_inputs("ReduceScatter", xs, np.float32, np.float16)
    outputs_match("ReduceScatter", len(inputs), num_outputs)
    if counts.shape != (w.size,):
        raise EnforceError("ReduceScatter: recv_counts needs one count per rank",
                           blob="recv_counts", expected=f"shape ({w.size},)",
                           found=f"shape {counts.shape}")
    if (counts < 0).any() or int(counts.sum()) != xs[0].size:
        raise EnforceError("ReduceScatter: recv_counts must be non-negative and add up to "
                           "X's size", blob="recv_counts", expected=f"a sum of {xs[0].size}",
                           found=counts.tolist())
    w.check_same("ReduceScatter", list(zip(names(op_def, 1, len(inputs)), inputs)))
    local = xs[0].reshape(-1).astype(xs[0].dtype, copy=True)
    for x in xs[1:]:
        local += x.reshape(-1)
    mine = w.reduce_scatter_sum(local, counts, "ReduceScatter")
    start = int(counts[: w.rank].sum())
    out = np.zeros_like(local)
    out[start:start + mine.size] = mine
    return tuple(out.reshape(x.shape).copy() for x in xs) + (counts.copy(),)


should_not_do_gradient("ReduceScatter")
