"""Allreduce (Gloo-named): the sum of every input of every rank, into every input."""

from __future__ import annotations

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from .._inplace import owned
from ._common import (
    SHIFTED_PAIRS,
    WORLD_DOC,
    names,
    same_as_data,
    tensor,
    world,
)


def same_local_inputs(op: str, xs: tuple, *dtypes) -> None:
    """Caffe2 required every input of one op to have the same size and type."""
    first = tensor(xs[0], "X", *dtypes)
    for i, x in enumerate(xs[1:], 2):
        x = tensor(x, f"input {i}", *dtypes)
        if x.size != first.size:
            raise EnforceError(f"{op}: input {i} has {x.size} elements, input 1 has "
                               f"{first.size}", blob=f"input {i}",
                               expected=f"{first.size} elements", found=x.size)
        if x.dtype != first.dtype:
            raise EnforceError(f"{op}: input {i} is {x.dtype}, input 1 is {first.dtype}",
                               blob=f"input {i}", expected=str(first.dtype), found=str(x.dtype))


def outputs_match(op: str, n_in: int, num_outputs: int) -> None:
    if num_outputs != n_in:
        raise EnforceError(f"{op}: one output per tensor input is needed (in place)",
                           expected=f"{n_in} outputs", found=num_outputs)


@register_cpu_operator(
    "Allreduce",
    inputs=["comm_world", "X"],
    outputs=["Y"],
    num_inputs=(2, None),
    num_outputs=(1, None),
    enforce_inplace=SHIFTED_PAIRS,
    args=[Arg("status_blob", str, ""), Arg("gpu_direct", bool, False)],
    shape=same_as_data,
    example=Example({"comm_world": CommonWorld(None), "X": np.array([1, 2], np.float32),
                     "X2": np.array([10, 20], np.float32)},
                    {"X": np.array([11, 22], np.float32), "X2": np.array([11, 22], np.float32)}),
    doc=f"""Does an allreduce among the nodes (sum only): every tensor input, on every rank,
becomes the sum of all tensor inputs of all ranks. In place, as Caffe2 required
(output i is input i + 1); float32 or float16 (Gloo's CPU types), all inputs of one
op of the same size and type. ``status_blob`` and ``gpu_direct`` are accepted and
have no effect. As in Caffe2 the sum is written into the blobs' own memory (one
in-place MPI allreduce, no second buffer) when nothing but the blob references that
memory; otherwise into a new array, never into memory something else can see. The
check that every rank holds the same shapes and types runs before anything is
written; if the collective itself times out, the values are undefined (the job is
aborted when the process exits).

{WORLD_DOC}

Example: one rank, X=[1, 2], X2=[10, 20] -> X=[11, 22], X2=[11, 22]""",
)
def allreduce(comm_world, *xs, status_blob, gpu_direct, num_outputs, op_def=None,
              outputs=None) -> tuple:
    """Local sum of the inputs, then the sum over ranks in place (MPI_IN_PLACE), into
    the first input's own memory when nothing else can see it, else into one copy."""
    w = world(comm_world, "Allreduce")
    same_local_inputs("Allreduce", xs, np.float32, np.float16)
    if num_outputs != len(xs):
        outputs_match("Allreduce", len(xs), num_outputs)
    bufs: list = [None] * len(xs)
    for i in range(len(xs)):  # (no loop variable: it would hold a reference)
        if owned(xs[i], outputs, i):
            bufs[i] = xs[i]
    blobs = list(zip(names(op_def, 1, len(xs)), xs))
    if len(xs) == 1:  # one tensor: nothing to add up locally
        first = bufs[0]
        return (w.allreduce_checked("Allreduce", blobs, (lambda: first) if first is not None
                                    else (lambda: np.array(xs[0], order="C", copy=True))),)

    def local_sum() -> np.ndarray:  # runs only once every rank passed the checks
        total = bufs[0] if bufs[0] is not None else np.array(xs[0], order="C", copy=True)
        with np.errstate(over="ignore", invalid="ignore"):  # inf, as MPI's sum gives
            for x in xs[1:]:
                total += x.reshape(total.shape)
        return total

    total = w.allreduce_checked("Allreduce", blobs, local_sum)
    results = [total]
    for x, buf in zip(xs[1:], bufs[1:]):
        if buf is None:
            results.append(total.reshape(x.shape).copy())
        else:
            np.copyto(buf, total.reshape(buf.shape))
            results.append(buf)
    return tuple(results)


should_not_do_gradient("Allreduce")
