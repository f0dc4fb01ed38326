"""GivenTensorFill and its typed variants: a tensor holding the listed ``values``
(Caffe2 given_tensor_fill_op, which registered them all from one template)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.opschema import REQUIRED, Arg
from caffe2lite.io.tensor import DTYPES

from caffe2lite.schema.example import Example

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function
from .constant_fill import (
    TP,
    field_of,
    floats_as,
    integers_as,
    reject_undefined,
    wrong_field,
)

# The types GivenTensorFill accepts in its optional ``dtype`` argument.
GIVEN_TENSOR_FILL_TYPES = (
    TP.FLOAT,
    TP.DOUBLE,
    TP.BOOL,
    TP.UINT16,
    TP.INT16,
    TP.INT32,
    TP.INT64,
    TP.STRING,
)
_REPEATED = {"f": "floats", "i": "ints", "s": "strings"}
_PYTHON_TYPES = {"f": (float, int), "i": (int,), "s": (bytes,)}  # ints pass for floats


def given_values(values: Any, data_type: int) -> np.ndarray:
    """``values`` as a 1-D array of ``data_type``, read from the Argument field Caffe2
    used for that type (floats, ints or strings); integers must fit the type.

    >>> given_values([1, 0, 2], TP.BOOL)
    array([ True, False,  True])
    """
    field = field_of(data_type)
    np_dtype = DTYPES[data_type]
    one_field = isinstance(values, list)  # a repeated field gives a list of one type
    if not one_field or (values and not isinstance(values[0], _PYTHON_TYPES[field])):
        raise wrong_field("values", _REPEATED[field], values)
    if field == "s":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    if field == "f":
        return floats_as(values, np_dtype)
    return integers_as(np.array(values, dtype=np.int64), np_dtype, "values")


def fill_given(
    inputs: tuple,
    values: Any,
    data_type: int,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
) -> np.ndarray:
    """The filler shape, filled with ``values`` in order; their number must match it."""
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    size = int(np.prod(out_shape, dtype=np.int64))
    data = given_values(values, data_type)
    if data.shape[0] != size:
        raise EnforceError(
            f"output size: {size} given size: {data.shape[0]}",
            arg="values",
            expected=f"{size} values for shape {list(out_shape)}",
            found=f"{data.shape[0]} values",
        )
    return data.reshape(out_shape)


def _doc(type_name: str, example: str) -> str:
    return f"""Fill the output with the given `values` (row-major) as {type_name}.

The shape is the `shape` argument when there is no input; with an input it is the
input's shape (or, with `input_as_shape`, the values of the 1-D int64 input),
followed by `extra_shape`. The number of values must equal the number of elements
("output size: N given size: M"). `values` is required and must be in the Argument
field of the type (floats, ints or strings; integers must fit the type).

Example: {example}"""


def _register(
    op_type: str, data_type: int, type_name: str, example: str, data: Example
) -> Callable:
    """Register ``op_type``: GivenTensorFill with its element type fixed."""
    args = [Arg("values", "any", REQUIRED, doc=f"the {type_name} elements")]
    args += SHAPE_ARGS

    @register_cpu_operator(
        op_type,
        inputs=["input"],
        outputs=["output"],
        num_inputs=(0, 1),
        allow_inplace=[(0, 0)],
        args=args,
        shape=filler_shape_function(lambda kw: DTYPES[data_type]),
        example=data,
        doc=_doc(type_name, example),
    )
    def typed_fill(
        *inputs: np.ndarray,
        values: Any,
        shape: Any,
        extra_shape: list[int],
        input_as_shape: bool,
    ) -> tuple[np.ndarray]:
        """The given values in the filler shape."""
        out = fill_given(inputs, values, data_type, shape, extra_shape, input_as_shape)
        return (out,)

    no_gradient(op_type)
    return typed_fill


@register_cpu_operator(
    "GivenTensorFill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=[
        Arg("values", "any", REQUIRED, doc="the elements"),
        Arg("dtype", "dtype", TP.FLOAT, doc="the element type (default FLOAT)"),
    ]
    + SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: DTYPES[kw["dtype"]]),
    example=Example(
        {},
        {"output": np.array([[1, 2], [3, 4]], np.float32)},
        {"values": [1.0, 2.0, 3.0, 4.0], "shape": [2, 2]},
    ),
    doc=_doc(
        "float32, or as the optional `dtype` argument says (FLOAT, DOUBLE, "
        "BOOL, UINT16, INT16, INT32, INT64 or STRING)",
        "values=[1., 2., 3., 4.], shape=[2, 2] -> output=[[1., 2.], [3., 4.]] "
        "(float32)",
    ),
)
def given_tensor_fill(
    *inputs: np.ndarray,
    values: Any,
    dtype: int,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
) -> tuple[np.ndarray]:
    """The given values in the filler shape, as ``dtype`` (float32 by default)."""
    reject_undefined(dtype, "Cannot have undefined 'dtype' argument")
    if dtype not in GIVEN_TENSOR_FILL_TYPES:
        names = ", ".join(TP.DataType.Name(t) for t in GIVEN_TENSOR_FILL_TYPES)
        raise ArgumentError(
            f"Unexpected 'dtype' argument value: {dtype}",
            arg="dtype",
            expected=f"one of {names}",
            found=dtype,
        )
    return (fill_given(inputs, values, dtype, shape, extra_shape, input_as_shape),)


no_gradient("GivenTensorFill")

_register(
    "GivenTensorDoubleFill",
    TP.DOUBLE,
    "float64",
    "values=[0.5, 2.0], shape=[2] -> output=[0.5, 2.0] (float64)",
    Example(
        {},
        {"output": np.array([0.5, 2.0], np.float64)},
        {"values": [0.5, 2.0], "shape": [2]},
    ),
)
_register(
    "GivenTensorBoolFill",
    TP.BOOL,
    "bool (ints; non-zero is True)",
    "values=[1, 0, 1], shape=[3] -> output=[True, False, True]",
    Example(
        {},
        {"output": np.array([True, False, True])},
        {"values": [1, 0, 1], "shape": [3]},
    ),
)
_register(
    "GivenTensorInt16Fill",
    TP.INT16,
    "int16",
    "values=[-1, 300], shape=[2] -> output=[-1, 300] (int16)",
    Example(
        {},
        {"output": np.array([-1, 300], np.int16)},
        {"values": [-1, 300], "shape": [2]},
    ),
)
_register(
    "GivenTensorIntFill",
    TP.INT32,
    "int32",
    "values=[1, 2, 3, 4], shape=[2, 2] -> output=[[1, 2], [3, 4]] (int32)",
    Example(
        {},
        {"output": np.array([[1, 2], [3, 4]], np.int32)},
        {"values": [1, 2, 3, 4], "shape": [2, 2]},
    ),
)
_register(
    "GivenTensorInt64Fill",
    TP.INT64,
    "int64",
    "values=[17, 23, 29, 31], shape=[4] -> output=[17, 23, 29, 31] (int64)",
    Example(
        {},
        {"output": np.array([17, 23, 29, 31], np.int64)},
        {"values": [17, 23, 29, 31], "shape": [4]},
    ),
)
_register(
    "GivenTensorStringFill",
    TP.STRING,
    "strings (bytes)",
    'values=["a", "bc"], shape=[2] -> output=[b"a", b"bc"]',
    Example(
        {},
        {"output": np.array([b"a", b"bc"], dtype=object)},
        {"values": [b"a", b"bc"], "shape": [2]},
    ),
)
