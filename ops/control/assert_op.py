"""Assert: fail unless every element of a bool or integer tensor is true (non-zero)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import gradient_not_implemented_yet, register_cpu_operator
from .._dense import dispatch

_TYPES = (np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.bool_))


@register_cpu_operator(
    "Assert",
    inputs=["X"],
    outputs=[],
    args=[Arg("error_msg", str, "", doc="added to the error when the assertion fails")],
    shape=lambda x: (),
    example=Example({"X": np.array([[7, 5], [1, 2]], np.int32)}, {}),
    doc="""Checks that every element of X (bool, int32 or int64) is true / non-zero;
otherwise fails with "Assert failed for element i in tensor, value: v" for the first
element that is not, followed by "Error message: " and ``error_msg`` when that is set.
No outputs.

Example: X=[[7, 5], [1, 2]] -> () (passes)""",
)
def assert_op(x: np.ndarray, *, error_msg: str) -> tuple:
    """Raise on the first false element."""
    dispatch(x, "X", _TYPES)
    flat = x.reshape(-1)
    bad = np.flatnonzero(flat == 0)
    if bad.size:
        i = int(bad[0])
        value = int(flat[i])
        text = f"(bool)cmp_data[i]. Assert failed for element {i} in tensor, value: {value}\n"
        if error_msg:
            text += f"Error message: {error_msg}"
        raise EnforceError(text, blob="X", expected="every element true",
                           found=f"{value} at flat index {i}")
    return ()


# Caffe2 registered no gradient maker for Assert (it has no outputs, so none is ever
# asked for).
gradient_not_implemented_yet("Assert")
