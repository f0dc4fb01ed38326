"""Div (C = A / B, element-wise with broadcasting) and its gradient op DivGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import NUMERIC, dims, dispatch, enforce_cmp, enforce_that
from . import _elementwise as ew


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


def c_divide(a: np.ndarray, b: np.ndarray, divisor_blob: str = "B") -> np.ndarray:
    """a / b as C++ computes it: true division for floats (x / 0 is inf or NaN),
    division truncated toward zero for integers. An integer division by zero, which
    was undefined in C++, raises."""
    if a.dtype.kind == "f":
        with np.errstate(all="ignore"):
            return np.divide(a, b)
    if not np.all(b):
        raise EnforceError("integer division by zero", blob=divisor_blob,
                           expected="no zero divisor", found="a zero element")
    with np.errstate(all="ignore"):
        return (a - np.fmod(a, b)) // b


@register_cpu_operator(
    "Div",
    inputs=["A", "B"],
    outputs=["C"],
    args=ew.ARGS,
    allow_inplace=[(0, 0)],
    shape=ew.binary_shape,
    cost=ew.first_input_pointwise_cost(1),
    example=Example({"A": np.array([[18, 8], [2, 9]], np.int32),
                     "B": np.array([[9, 2], [3, 2]], np.int32)},
                    {"C": np.array([[2, 4], [0, 4]], np.int32)}),
    doc="""Element-wise division C = A / B of two tensors of one type (int32, int64, float32
or float64); integer division truncates toward zero as in C++ (a zero divisor, undefined
in C++, raises). By default shapes broadcast numpy-style (aligned from the right, a
dimension of 1 stretches). With ``broadcast=1`` (legacy mode) C has A's shape and B is
a single element or matches a contiguous run of A's dimensions starting at ``axis``
(or at the axis ``axis_str`` names in ``order``; by default the run ends at A's last
dimension). C may overwrite A in place, if A already has C's shape.""",
)
def div(a: np.ndarray, b: np.ndarray, *, broadcast: bool, axis: int, axis_str: str,
        order: str, op_def) -> tuple:
    """C = A / B with Caffe2's broadcasting rules."""
    dtype = ew.check_types(a, b)
    a_dims, b_dims, c_shape = ew.operands(a, b, broadcast, axis, axis_str, order)
    if not broadcast and op_def.output[0] == op_def.input[0]:
        if tuple(c_shape) != a.shape:
            enforce_cmp(False, "C_dims_int == A_dims", dims(c_shape),
                        dims(a.shape), blob="A")
    out = c_divide(a.reshape(a_dims), b.reshape(b_dims))
    return (np.asarray(out, dtype=dtype).reshape(c_shape),)


@register_gradient("Div")
def div_gradient_maker(g):
    """``DivGradient([C_grad, A, B, C]) -> [A_grad, B_grad]``."""
    return [g.op_def("DivGradient", [g.GO(0), g.I(0), g.I(1), g.O(0)], [g.GI(0), g.GI(1)])]


def _div_gradient_shape(*inputs: TensorShape) -> tuple[TensorShape, TensorShape]:
    """dA has A's shape (C's in the three-input form), dB has B's; both of dC's type."""
    if len(inputs) == 3:
        b, c, dc = inputs
        a = c
    else:
        dc, a, b, _ = inputs
    dtype = dc.dtype if dc.dtype is not None else a.dtype
    return (TensorShape(a.dims, dtype), TensorShape(b.dims, dtype))


@register_cpu_operator(
    "DivGradient",
    inputs=["dC", "A", "B", "C"],
    outputs=["dA", "dB"],
    num_inputs=(3, 4),
    args=ew.ARGS,
    allow_inplace=[(0, 0)],
    shape=_div_gradient_shape,
    example=Example({"dC": _f([[1, 1], [1, 1]]), "A": _f([[2, 4], [6, 8]]), "B": _f([2, 4]),
                     "C": _f([[1, 1], [3, 2]])},
                    {"dA": _f([[0.5, 0.25], [0.5, 0.25]]), "dB": _f([-2, -0.75])}),
    doc="""Gradient of Div from the forward output: dA = dC / B and dB = -dC * C / B, each
summed over the dimensions its input was broadcast along (same broadcasting arguments
as the forward op; integer types divide per element, truncating, before summing). The
inputs are [dC, A, B, C]; Caffe2's older three-input form [B, C, dC] is accepted too,
with dA then shaped like C. dA may overwrite dC in place.""",
)
def div_gradient(*inputs: np.ndarray, broadcast: bool, axis: int, axis_str: str,
                 order: str) -> tuple:
    """dA and dB, reduced to A's and B's shapes."""
    if len(inputs) == 3:
        b, c, dc = inputs
        a, a_name = c, "C"
    else:
        dc, a, b, c = inputs
        a_name = "A"
    dtype = dispatch(a, a_name, NUMERIC)
    for x, name in ((b, "B"), (c, "C"), (dc, "dC")):
        check_dtype(x, name, dtype)
    a_dims, b_dims, c_shape = ew.operands(a, b, broadcast, axis, axis_str, order)
    for x, name in ((c, "C"), (dc, "dC")):
        if x.shape != tuple(c_shape):
            enforce_that(False, f"{name}.sizes() == C.sizes()", blob=name,
                         expected=f"the forward output's shape {dims(c_shape)}",
                         found=dims(x.shape))
    full = np.broadcast_shapes(a_dims, b_dims)
    g, cv, bv = dc.reshape(full), c.reshape(full), b.reshape(b_dims)
    ga = c_divide(g, bv)
    with np.errstate(all="ignore"):
        gb = c_divide(np.negative(g) * cv, bv)
    ga = np.asarray(ew.reduce_to(np.asarray(ga, dtype), a_dims), dtype).reshape(a.shape)
    gb = np.asarray(ew.reduce_to(np.asarray(gb, dtype), b_dims), dtype).reshape(b.shape)
    return (ga, gb)


gradient_not_implemented_yet("DivGradient")
