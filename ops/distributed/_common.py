"""Shared checks of the collective ops: the common world input, float tensors, and
the real blob names (for errors that name the blob and the ranks)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.distributed.mpi_world import CommonWorld
from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.shapes import TensorShape

WORLD_DOC = """The engine is MPI (mpi4py, the "mpi" extra): the common world holds a
communicator over the ranks mpiexec started; a process not started by mpiexec has a
world of one rank. Every rank waits at most the world's timeout_ms (Gloo's 30 s by
default) and fails with an error naming the op when a rank died or never came;
ranks whose blobs differ in shape or type fail with an error naming the blob and
the ranks."""

# Caffe2 declared enforce_inplace as a function (input i + 1 is output i); the
# registry takes pairs, so list enough of them.
SHIFTED_PAIRS = [(i + 1, i) for i in range(512)]


def world(value: Any, op: str) -> CommonWorld:
    """Input 0 must be a common world."""
    if not isinstance(value, CommonWorld):
        raise EnforceError(f"{op}: input 0 must be a common world (made by CreateCommonWorld "
                           "or MPICreateCommonWorld)", blob="comm_world",
                           expected="a CommonWorld", found=type(value).__name__)
    return value


def tensor(value: Any, blob: str, *dtypes: Any) -> np.ndarray:
    """A numpy tensor, of one of ``dtypes`` when given."""
    if not isinstance(value, np.ndarray):
        raise EnforceError("expected a tensor", blob=blob, expected="a numpy array",
                           found=type(value).__name__)
    if dtypes:
        check_dtype(value, blob, *dtypes)
    return value


def root_rank(root: int, w: CommonWorld, op: str) -> None:
    if not 0 <= root < w.size:
        raise EnforceError(f"{op}: root {root} is not a rank of the common world",
                           arg="root", expected=f"0 <= root < {w.size}", found=root)


def names(op_def: Any, first: int, count: int) -> list[str]:
    """The real names of inputs ``first .. first + count - 1``."""
    if op_def is None:
        return [f"input {i}" for i in range(first, first + count)]
    return list(op_def.input[first:first + count])


def world_shape(*shapes: Any, **kwargs: Any) -> tuple:
    """A common world is not a tensor: unknown shape and type."""
    return (TensorShape(),)


def same_as_data(*shapes: Any, **kwargs: Any) -> tuple:
    """Outputs i are like inputs i + 1."""
    return tuple(shapes[1:])
