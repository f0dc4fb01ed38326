"""What the ``caffe2lite`` subcommands share: the usage error, reading a NetDef or a
PlanDef, and printing values.

A file is read as a PlanDef when asked to (``--plan``), or when it parses as a
PlanDef that has at least one ``execution_step``; otherwise it is read as a NetDef,
and a file that is neither gets the NetDef parse error. Text files tell the two
apart by their field names; for binary files the check is strict enough (unknown
fields are errors, see :mod:`caffe2lite.protoio`) that a NetDef is not mistaken for
a plan.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from caffe2lite.io.int8 import Int8Tensor

from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.io.protoio import load_net, load_plan

if TYPE_CHECKING:  # annotations only (they are never evaluated here)
    from typing_extensions import TypeIs

Graph = caffe2_pb2.NetDef | caffe2_pb2.PlanDef

# Exit statuses of the command.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Caffe2LiteError):
    """Bad command line, or an input file that cannot be read (exit status 2)."""


def load_graph(path: str | os.PathLike, *, plan: bool = False) -> Graph:
    """Read ``path`` as a PlanDef (``plan=True``, or when it has execution steps)
    or else as a NetDef. Raises :class:`~caffe2lite.errors.ProtoParseError`."""
    if plan:
        return load_plan(path)
    try:
        found = load_plan(path)
    except ProtoParseError:
        found = None
    if found is not None and len(found.execution_step):
        return found
    return load_net(path)


def is_plan(graph: Graph) -> TypeIs[caffe2_pb2.PlanDef]:
    """Whether ``graph`` is a PlanDef (else a NetDef)."""
    return isinstance(graph, caffe2_pb2.PlanDef)


def graph_nets(graph: Graph) -> list[caffe2_pb2.NetDef]:
    """The NetDefs of ``graph``: the net itself, or a plan's networks."""
    return list(graph.network) if is_plan(graph) else [graph]


def format_value(name: str, value: Any) -> str:
    """A blob as the ``run`` command prints it: a header line with name, dtype and
    shape, then the values (numpy's layout, comma-separated).

    >>> print(format_value("Y", np.array([1, 2, -1], dtype=np.int64)))
    Y: int64 shape (3,)
    [ 1,  2, -1]
    """
    if isinstance(value, (bytes, str)):
        return f"{name}: bytes (a string blob)\n{value!r}"
    if isinstance(value, Int8Tensor):
        body = np.array2string(value.data, separator=", ", threshold=1000)
        return (f"{name}: Int8 {value.data.dtype} shape {value.data.shape}, scale "
                f"{value.scale:g}, zero_point {value.zero_point}\n{body}")
    if not isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return f"{name}: {type(value).__name__} (not a tensor)"
    arr = np.asarray(value)
    body = np.array2string(arr, separator=", ", threshold=1000)
    return f"{name}: {arr.dtype} shape {arr.shape}\n{body}"


def join_names(names: Any) -> str:
    """Blob names joined by ``, `` (``-`` when there are none)."""
    names = [str(n) for n in names]
    return ", ".join(names) if names else "-"
