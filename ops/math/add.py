"""Add (C = A + B, element-wise with broadcasting) and its gradient op AddGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from . import _elementwise as ew


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "Add",
    inputs=["A", "B"],
    outputs=["C"],
    args=ew.ARGS,
    allow_inplace=[(0, 0), (1, 0)],
    shape=ew.binary_shape,
    cost=ew.first_input_pointwise_cost(1),
    example=Example(
        {"A": _f([[1, 2], [3, 4]]), "B": _f([10, 20])}, {"C": _f([[11, 22], [13, 24]])}
    ),
    doc="""Element-wise addition C = A + B of two tensors of one type (int32, int64, float32 or
float64). By default shapes broadcast numpy-style (aligned from the right, a
dimension of 1 stretches). With ``broadcast=1`` (legacy mode) C has A's shape and B
is a single element or matches a contiguous run of A's dimensions starting at
``axis`` (or at the axis ``axis_str`` names in ``order``; by default the run ends at
A's last dimension). C may overwrite A or B in place.

Example: A=[[1, 2], [3, 4]], B=[10, 20] -> C=[[11, 22], [13, 24]]""",
)
def add(
    a: np.ndarray,
    b: np.ndarray,
    *,
    broadcast: bool,
    axis: int,
    axis_str: str,
    order: str,
) -> tuple:
    """C = A + B with Caffe2's broadcasting rules."""
    return ew.forward(np.add, a, b, broadcast, axis, axis_str, order)


@register_gradient("Add")
def add_gradient_maker(g):
    """``AddGradient([C_grad, A, B]) -> [A_grad, B_grad]``."""
    return [g.op_def("AddGradient", [g.GO(0), g.I(0), g.I(1)], [g.GI(0), g.GI(1)])]


@register_cpu_operator(
    "AddGradient",
    inputs=["dC", "A", "B"],
    outputs=["dA", "dB"],
    args=ew.ARGS,
    allow_inplace=[(0, 0), (0, 1)],
    shape=ew.binary_gradient_shape,
    example=Example(
        {"dC": _f([[1, 2], [3, 4]]), "A": _f([[0, 0], [0, 0]]), "B": _f([0, 0])},
        {"dA": _f([[1, 2], [3, 4]]), "dB": _f([4, 6])},
    ),
    doc="""Gradient of Add: dA = dC and dB = dC, each summed over the dimensions its input was
broadcast along (same broadcasting arguments as the forward op).

Example: dC=[[1, 2], [3, 4]], A=[[0, 0], [0, 0]], B=[0, 0] -> dA=[[1, 2], [3, 4]], dB=[4, 6]""",
)
def add_gradient(
    dc: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    broadcast: bool,
    axis: int,
    axis_str: str,
    order: str,
) -> tuple:
    """dA and dB, reduced to A's and B's shapes."""
    return ew.backward("add", dc, a, b, broadcast, axis, axis_str, order)


gradient_not_implemented_yet("AddGradient")
