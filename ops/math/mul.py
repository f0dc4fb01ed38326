"""Mul (C = A * B, element-wise with broadcasting) and its gradient op MulGradient."""

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
    "Mul",
    inputs=["A", "B"],
    outputs=["C"],
    args=ew.ARGS,
    allow_inplace=[(0, 0), (1, 0)],
    shape=ew.binary_shape,
    cost=ew.first_input_pointwise_cost(1),
    example=Example(
        {"A": _f([[1, 2], [3, 4]]), "B": _f([5, 6])}, {"C": _f([[5, 12], [15, 24]])}
    ),
    doc="""Element-wise multiplication C = A * B of two tensors of one type (int32, int64,
float32 or float64). By default shapes broadcast numpy-style (aligned from the
right, a dimension of 1 stretches). With ``broadcast=1`` (legacy mode) C has A's
shape and B is a single element or matches a contiguous run of A's dimensions
starting at ``axis`` (or at the axis ``axis_str`` names in ``order``; by default the
run ends at A's last dimension). C may overwrite A or B in place.

Example: A=[[1, 2], [3, 4]], B=[5, 6] -> C=[[5, 12], [15, 24]]""",
)
def mul(
    a: np.ndarray,
    b: np.ndarray,
    *,
    broadcast: bool,
    axis: int,
    axis_str: str,
    order: str,
) -> tuple:
    """C = A * B with Caffe2's broadcasting rules."""
    return ew.forward(np.multiply, a, b, broadcast, axis, axis_str, order)


@register_gradient("Mul")
def mul_gradient_maker(g):
    """``MulGradient([C_grad, A, B]) -> [A_grad, B_grad]``."""
    return [g.op_def("MulGradient", [g.GO(0), g.I(0), g.I(1)], [g.GI(0), g.GI(1)])]


@register_cpu_operator(
    "MulGradient",
    inputs=["dC", "A", "B"],
    outputs=["dA", "dB"],
    args=ew.ARGS,
    allow_inplace=[(0, 0), (0, 1)],
    shape=ew.binary_gradient_shape,
    example=Example(
        {"dC": _f([[1, 1], [1, 1]]), "A": _f([[1, 2], [3, 4]]), "B": _f([5, 6])},
        {"dA": _f([[5, 6], [5, 6]]), "dB": _f([4, 6])},
    ),
    doc="""Gradient of Mul: dA = dC * B and dB = dC * A, each summed over the dimensions its
input was broadcast along (same broadcasting arguments as the forward op).

Example: dC=[[1, 1], [1, 1]], A=[[1, 2], [3, 4]], B=[5, 6] -> dA=[[5, 6], [5, 6]], dB=[4, 6]""",
)
def mul_gradient(
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
    return ew.backward("mul", dc, a, b, broadcast, axis, axis_str, order)


gradient_not_implemented_yet("MulGradient")
