"""DiagonalFill: zeros with ``value`` on the main diagonal (of a >= 2-D tensor)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function
from .constant_fill import TP, constant_value, reject_undefined

# The element types DiagonalFill can produce (ConstantFill's, without STRING).
DIAGONAL_FILL_TYPES = (
    TP.FLOAT,
    TP.DOUBLE,
    TP.BOOL,
    TP.INT8,
    TP.INT16,
    TP.INT32,
    TP.INT64,
    TP.UINT8,
    TP.UINT16,
)


def diagonal_value(value: Any, dtype: int | None) -> tuple[Any, np.dtype]:
    """(the diagonal value, the numpy dtype) from the ``value`` and ``dtype`` arguments:
    without ``dtype`` the type follows value's Argument field (float -> FLOAT, int ->
    INT64); the value must sit in the field of the type and fit it."""
    if dtype is not None:
        reject_undefined(dtype, "Cannot have undefined 'dtype' argument")
        if dtype not in DIAGONAL_FILL_TYPES:
            names = ", ".join(TP.DataType.Name(t) for t in DIAGONAL_FILL_TYPES)
            raise ArgumentError(
                f"Unexpected 'dtype' argument value: {dtype}",
                arg="dtype",
                expected=f"one of {names}",
                found=dtype,
            )
    return constant_value(value, dtype)


def diagonal_step(out_shape: tuple[int, ...]) -> int:
    """The distance between two diagonal elements in the flat tensor: shape[1] + 1 for
    a matrix; 1 + d + d**2 + ... + d**(n-1) for an n-D tensor whose dimensions all
    equal d (any other >2-D shape is an error)."""
    if len(out_shape) < 2:
        raise ShapeError(
            "Input shape must be >= 2D",
            expected="a shape of rank >= 2",
            found=list(out_shape),
        )
    if len(out_shape) == 2:
        return out_shape[1] + 1
    if any(d != out_shape[0] for d in out_shape):
        raise ShapeError(
            "All dimensions of input must be of equal length",
            expected="equal dimensions",
            found=list(out_shape),
        )
    return 1 + sum(
        int(np.prod(out_shape[:k], dtype=np.int64)) for k in range(1, len(out_shape))
    )


@register_cpu_operator(
    "DiagonalFill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=[
        Arg("value", "any", None, doc="the diagonal value (default 0)"),
        Arg("dtype", "dtype", None, doc="the output's TensorProto.DataType"),
    ]
    + SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: diagonal_value(kw["value"], kw["dtype"])[1]),
    example=Example(
        {},
        {"output": np.array([[2.5, 0, 0], [0, 2.5, 0]], np.float32)},
        {"shape": [2, 3], "value": 2.5},
    ),
    doc="""Fill a tensor of at least 2 dimensions with zeros and put `value` on its main
diagonal. A matrix of shape (r, c) gets `value` at every flat position that is a
multiple of c + 1, so a tall matrix wraps around (rows c + 1, 2c + 2, ... start a
new diagonal, like numpy's fill_diagonal with wrap=True). Above 2 dimensions all
dimensions must be equal ("All dimensions of input must be of equal length"), and
the diagonal is the elements whose indices are all equal. Fewer than 2 dimensions:
"Input shape must be >= 2D".

The element type is the `dtype` argument (FLOAT, DOUBLE, BOOL, INT8, INT16, INT32,
INT64, UINT8 or UINT16); without it, a float `value` (or none) gives FLOAT and an int
gives INT64. The value must sit in the Argument field of the type (f for the float
types, i for the others) and fit it. The shape is the `shape` argument without an
input, or the input's shape (its int64 values with `input_as_shape`) followed by
`extra_shape`.""",
)
def diagonal_fill(
    *inputs: np.ndarray,
    value: Any,
    dtype: int | None,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
) -> tuple[np.ndarray]:
    """Zeros of the filler shape with ``value`` every ``diagonal_step`` elements."""
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    fill, np_dtype = diagonal_value(value, dtype)
    step = diagonal_step(out_shape)
    out = np.zeros(out_shape, dtype=np_dtype)
    out.reshape(-1)[::step] = fill
    return (out,)


no_gradient("DiagonalFill")
