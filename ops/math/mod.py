"""Mod: the element-wise remainder of an integer tensor by the ``divisor`` argument."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import dispatch

_INTS = (np.dtype(np.int32), np.dtype(np.int64))


@register_cpu_operator(
    "Mod",
    inputs=["X"],
    outputs=["Y"],
    args=[Arg("divisor", int, 0, doc="the divisor (must not be 0)"),
          Arg("sign_follow_divisor", bool, False,
              doc="give a nonzero remainder the divisor's sign instead of the dividend's")],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": np.array([7, -7, 10, -4], np.int32)},
                    {"Y": np.array([1, -1, 1, -1], np.int32)}, {"divisor": 3}),
    doc="""Element-wise remainder Y = X % divisor of an int32 or int64 tensor, as C++
computes it: the remainder takes the dividend's sign, or with
``sign_follow_divisor=1`` the divisor's (a nonzero remainder of the other sign has the
divisor added). Y has X's shape and type and may overwrite X in place. ``divisor``
must not be 0.""",
)
def mod(x: np.ndarray, *, divisor: int, sign_follow_divisor: bool) -> tuple:
    """C++'s ``x % divisor`` with the optional sign fix."""
    if divisor == 0:
        raise EnforceError("divisor_ != 0. 0 vs 0. divisor must not be 0", arg="divisor",
                           expected="a nonzero divisor", found=0)
    dtype = dispatch(x, "X", _INTS)
    d = np.int64(divisor)
    y = np.fmod(x.astype(np.int64), d)
    if sign_follow_divisor:
        y = np.where((y != 0) & ((y > 0) != (d > 0)), y + d, y)
    return (np.asarray(y, dtype),)


# Caffe2 declared SHOULD_NOT_DO_GRADIENT for "ModOp", a name no operator has, so Mod
# itself had no gradient registered: asking for one is an error.
gradient_not_implemented_yet("Mod")
