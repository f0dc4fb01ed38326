"""GivenTensorByteStringToUInt8Fill: a uint8 tensor holding the bytes of one string."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import REQUIRED, Arg
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function
from .constant_fill import TP, reject_undefined
from .given_tensor_fill import given_values


@register_cpu_operator(
    "GivenTensorByteStringToUInt8Fill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=[
        Arg(
            "values", "any", REQUIRED, doc="one byte string: the elements, a byte each"
        ),
        Arg("dtype", "dtype", None, doc="if given, must be STRING"),
    ]
    + SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: np.dtype(np.uint8)),
    example=Example(
        {},
        {"output": np.array([[1, 2], [3, 255]], np.uint8)},
        {"values": [b"\x01\x02\x03\xff"], "shape": [2, 2]},
    ),
    doc="""Fill a uint8 tensor with the bytes of a string: `values` holds exactly one byte
string (in the Argument's strings field), and byte i becomes element i in row-major
order. This stores uint8 weights in a NetDef as bytes instead of one varint per
element. The number of bytes must equal the number of elements ("output size: N
given size: M"; Caffe2 only checked it in debug builds and otherwise read past the
string). An optional `dtype` argument must be STRING. The shape is the `shape`
argument without an input, or the input's shape (its int64 values with
`input_as_shape`) followed by `extra_shape`.""",
)
def given_tensor_byte_string_to_uint8_fill(
    *inputs: np.ndarray,
    values: Any,
    dtype: int | None,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
) -> tuple[np.ndarray]:
    """The bytes of ``values[0]`` as uint8, in the filler shape."""
    if dtype is not None:
        reject_undefined(dtype, "Cannot have undefined 'dtype' argument")
        if dtype != TP.STRING:
            raise ArgumentError(
                f"Unexpected 'dtype' argument value: {dtype}",
                arg="dtype",
                expected="STRING (4)",
                found=dtype,
            )
    strings = given_values(values, TP.STRING)
    if strings.shape[0] != 1:
        raise EnforceError(
            f"expected size: 1  given size: {strings.shape[0]}",
            arg="values",
            expected="exactly one byte string",
            found=f"{strings.shape[0]} strings",
        )
    data = np.frombuffer(strings[0], dtype=np.uint8)
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    size = int(np.prod(out_shape, dtype=np.int64))
    if data.shape[0] != size:
        raise EnforceError(
            f"output size: {size} given size: {data.shape[0]}",
            arg="values",
            expected=f"{size} bytes for shape {list(out_shape)}",
            found=f"{data.shape[0]} bytes",
        )
    return (data.reshape(out_shape).copy(),)


no_gradient("GivenTensorByteStringToUInt8Fill")
