"""Print: log the type, shape and first values of a tensor to stderr."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.opschema import Arg

_DEFAULT_LIMIT = 1000  # Caffe2's TensorPrinter k_limit_default_
# The types Caffe2's Print dispatched on: float, double, int, long, bool, char,
# unsigned char and std::string.
_PRINTABLE = frozenset(
    np.dtype(t)
    for t in (
        np.float32,
        np.float64,
        np.int32,
        np.int64,
        np.bool_,
        np.int8,
        np.uint8,
        object,
    )
)


def _values(flat: np.ndarray) -> str:
    """The values as C++ ``operator<<`` writes them, comma-separated."""
    kind = flat.dtype.kind
    if kind == "f":
        items = [format(v, "g") for v in flat.tolist()]
    elif kind == "b":
        items = ["1" if v else "0" for v in flat.tolist()]
    elif flat.dtype.itemsize == 1:  # char / unsigned char print as characters
        items = [chr(v % 256) for v in flat.tolist()]
    elif kind == "O":
        items = [
            v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            for v in flat.tolist()
        ]
    else:
        items = [str(v) for v in flat.tolist()]
    return ",".join(items)


@register_cpu_operator(
    "Print",
    inputs=["tensor"],
    outputs=[],
    shape=lambda tensor: (),
    example=Example({"x": np.array([[1, 2.5], [3, 4]], np.float32)}, {}),
    args=[
        Arg(
            "to_file",
            int,
            0,
            check=lambda v: v == 0,
            check_message="to_file is not supported by caffe2lite's Print: it always "
            "writes to stderr",
            expected="0",
        ),
        Arg("limit", int, 0),
        Arg(
            "every_n",
            int,
            1,
            check=lambda v: v >= 1,
            check_message="every_n_ >= 1",
            expected=">= 1",
        ),
    ],
    doc="""Logs shape and contents of input tensor to stderr, one line per printed run:
``Tensor <blob> of type <type>. Dims: (<d0>,<d1>,...,): <v0>,<v1>,...`` with the first
``limit`` values (``limit`` 0 means 1000); an empty tensor prints the part before
the values. Types: float, double, int, long, bool, signed/unsigned char (printed as
characters) and strings. ``every_n`` prints on the 1st, (n+1)th, (2n+1)th ... run of
one op instance (a created net keeps its instances across RunNet calls). Unlike
Caffe2, ``to_file=1`` is rejected: caffe2lite's Print always writes to stderr.

Example: tensor x=[[1, 2.5], [3, 4]] (float) -> stderr line
"Tensor x of type float. Dims: (2,2,): 1,2.5,3,4" """,
)
def print_op(
    tensor: Any, *, to_file: int, limit: int, every_n: int, op_def: Any, state: dict
) -> tuple:
    """Write one line describing ``tensor`` to stderr; no outputs."""
    runs = state.get("runs", 0)
    state["runs"] = runs + 1
    if runs % every_n:
        return ()
    if not isinstance(tensor, np.ndarray):
        sys.stderr.write(f"Blob of type: {cpp_type_name(np.dtype(object))}\n")
        return ()
    if tensor.dtype not in _PRINTABLE:
        raise EnforceError(
            f"Unsupported type of tensor: {cpp_type_name(tensor.dtype)}",
            blob="tensor",
            found=str(tensor.dtype),
        )
    dims = "".join(f"{d}," for d in tensor.shape)
    name = op_def.input[0]
    meta = f"Tensor {name} of type {cpp_type_name(tensor.dtype)}. Dims: ({dims}): "
    if tensor.size == 0:
        sys.stderr.write(meta + "\n")
        return ()
    count = min(tensor.size, limit or _DEFAULT_LIMIT)
    flat = tensor.reshape(-1)[: max(count, 0)]
    sys.stderr.write(meta + _values(flat) + "\n")
    return ()


should_not_do_gradient("Print")
