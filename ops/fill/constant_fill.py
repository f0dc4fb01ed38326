"""ConstantFill: a tensor of one repeated value (Caffe2 filler_op)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, Caffe2LiteError, EnforceError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.opschema import Arg
from caffe2lite.io.tensor import DTYPES

from caffe2lite.schema.example import Example

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function

TP = caffe2_pb2.TensorProto
# The element types ConstantFill can produce.
CONSTANT_FILL_TYPES = (
    TP.FLOAT,
    TP.DOUBLE,
    TP.BOOL,
    TP.INT8,
    TP.INT16,
    TP.INT32,
    TP.INT64,
    TP.UINT8,
    TP.UINT16,
    TP.STRING,
)


def field_of(data_type: int) -> str:
    """The Argument field Caffe2 read a value of this DataType from (f, i or s)."""
    dtype = DTYPES[data_type]
    if dtype.kind == "f":
        return "f"
    return "s" if dtype.kind == "O" else "i"


def wrong_field(arg: str, field: str, found: Any) -> ArgumentError:
    """Caffe2's message for an Argument read from the wrong field."""
    return ArgumentError(
        f"Argument {arg} does not have the right field: expected field {field}",
        arg=arg,
        expected=f"field {field}",
        found=repr(found),
    )


def floats_as(values: list, dtype: np.dtype) -> np.ndarray:
    """Float Argument values as ``dtype``. An Argument keeps floats as float32, so a
    DOUBLE gets the float32 value, as in Caffe2; ints (accepted here) convert directly.
    """
    if values and isinstance(values[0], float):
        return np.array(values, dtype=np.float32).astype(dtype, copy=False)
    return np.array(values, dtype=dtype)


def integers_as(values: np.ndarray, dtype: np.dtype, arg: str) -> np.ndarray:
    """int64 ``values`` converted to ``dtype`` as Caffe2's argument reader did: bool by
    ``!= 0``; other integer types only when no value is out of range."""
    if dtype == np.bool_:
        return values != 0
    info = np.iinfo(dtype)
    bad = (values < info.min) | (values > info.max)
    if bad.any():
        v = int(values[np.flatnonzero(bad)[0]])
        raise EnforceError(
            f"Value{v} of argument {arg}cannot be represented correctly "
            "in a target type",
            arg=arg,
            expected=f"a value in [{info.min}, {info.max}] ({dtype})",
            found=v,
        )
    return values.astype(dtype)


def reject_undefined(dtype: int, message: str) -> None:
    """Raise Caffe2's ``message`` when ``dtype`` is UNDEFINED."""
    if dtype == TP.UNDEFINED:
        raise ArgumentError(
            message, arg="dtype", expected="a defined data type", found="UNDEFINED (0)"
        )


def constant_value(value: Any, dtype: int | None) -> tuple[Any, np.dtype]:
    """(the fill value, the numpy dtype) for ConstantFill's ``value`` and ``dtype``."""
    if dtype is None:
        if value is None or isinstance(value, float):
            dtype = TP.FLOAT
        elif isinstance(value, int):
            dtype = TP.INT64
        else:
            raise ArgumentError(
                "Argument 'value' is of unexpected type",
                arg="value",
                expected="a float or an int (or a dtype argument)",
                found=repr(value),
            )
    reject_undefined(dtype, "ConstantFill op cannot have undefined 'dtype' argument")
    if dtype not in CONSTANT_FILL_TYPES:
        names = ", ".join(TP.DataType.Name(t) for t in CONSTANT_FILL_TYPES)
        raise ArgumentError(
            f"Unexpected 'dtype' argument value: {dtype}",
            arg="dtype",
            expected=f"one of {names}",
            found=dtype,
        )
    np_dtype, field = DTYPES[dtype], field_of(dtype)
    if value is None:
        return (b"" if field == "s" else 0), np_dtype
    if field == "f" and isinstance(value, (float, int)):  # an int is accepted here
        return floats_as([value], np_dtype)[0], np_dtype
    if field == "i" and isinstance(value, int):
        as_type = integers_as(np.array([value], dtype=np.int64), np_dtype, "value")
        return as_type[0], np_dtype
    if field == "s" and isinstance(value, bytes):
        return value, np_dtype
    raise wrong_field("value", field, value)


@register_cpu_operator(
    "ConstantFill",
    inputs=["X"],
    outputs=["Y"],
    shape=filler_shape_function(lambda kw: constant_value(kw["value"], kw["dtype"])[1]),
    example=Example(
        {}, {"Y": np.full((2, 3), 4.0, np.float32)}, {"shape": [2, 3], "value": 4.0}
    ),
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=[
        Arg("value", "any", None, doc="the fill value (default 0.0)"),
        Arg("dtype", "dtype", None, doc="the output's TensorProto.DataType"),
    ]
    + SHAPE_ARGS,
    doc="""Fill the output with the constant `value`.

The element type is the `dtype` argument (a TensorProto.DataType: FLOAT, DOUBLE, BOOL,
INT8, INT16, INT32, INT64, UINT8, UINT16 or STRING). Without `dtype` it follows the
Argument field `value` was stored in: a float (or no value) gives FLOAT, an int gives
INT64; a string value then needs dtype=STRING ("Argument 'value' is of unexpected
type"). The value must sit in the field of the type: f for FLOAT/DOUBLE (an int is
accepted too), i for the integer types and BOOL (checked to fit the type), s for
STRING. The shape is the `shape` argument when there is no input; with input X it is
X's shape (or, with `input_as_shape`, the values of the 1-D int64 X), followed by
`extra_shape`. Setting `shape` together with an input is an error, as are `extra_shape`
or `input_as_shape` without one.

Example: shape=[2, 3], value=4.0 -> Y=[[4., 4., 4.], [4., 4., 4.]] (float32);
X of shape (2,), value=7 -> Y=[7, 7] (int64)""",
)
def constant_fill(
    *inputs: np.ndarray,
    value: Any,
    dtype: int | None,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
) -> tuple[np.ndarray]:
    """A tensor of the filler shape holding ``value`` everywhere."""
    try:
        out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    except Caffe2LiteError as e:
        if e.blob == "input":  # the shared filler rules name Caffe2's usual input name
            e.blob = "X"
        raise
    fill, np_dtype = constant_value(value, dtype)
    return (np.full(out_shape, fill, dtype=np_dtype),)


no_gradient("ConstantFill")
