"""Int8GivenTensorFill and Int8GivenIntTensorFill: Int8 tensors from arguments (uint8
values from a byte string; int32 values, for biases, from a list)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ._q8 import Y_ARGS

_MAX_ELEMENTS = 1 << 31


def _fill_shape(dtype):
    def shape_fn(*, shape: Any = (), **kwargs) -> tuple[TensorShape]:
        return (TensorShape(tuple(int(d) for d in (shape or ())), np.dtype(dtype)),)

    return shape_fn


def _dims(shape: Any) -> tuple[int, ...]:
    dims = tuple(int(d) for d in (shape or ()))
    if any(d < 0 for d in dims):
        raise ArgumentError(
            "Shape dimensions must be non-negative",
            arg="shape",
            expected="dims >= 0",
            found=list(dims),
        )
    size = int(np.prod(dims, dtype=object)) if dims else 1
    if size > _MAX_ELEMENTS:
        raise ArgumentError(
            "shape too large",
            arg="shape",
            expected="fewer than 2**31 elements",
            found=list(dims),
        )
    return dims


def _check_size(dims: tuple[int, ...], n: int) -> None:
    size = int(np.prod(dims, dtype=np.int64)) if dims else 1
    if size != n:
        raise EnforceError(
            f"output size: {size} given size: {n}",
            arg="values",
            expected=f"{size} values for shape {list(dims)}",
            found=f"{n} values",
        )


def _as_bytes(values: Any) -> bytes:
    if isinstance(values, str):
        return values.encode("latin-1")
    if isinstance(values, (bytes, bytearray)):
        return bytes(values)
    if (
        isinstance(values, (list, tuple))
        and len(values) == 1
        and isinstance(values[0], (bytes, str))
    ):
        return _as_bytes(values[0])
    raise ArgumentError(
        "values must be a byte string",
        arg="values",
        expected="a string of bytes (the Argument's s field)",
        found=type(values).__name__,
    )


@register_cpu_operator(
    "Int8GivenTensorFill",
    inputs=[],
    outputs=["Tensor"],
    args=[
        Arg("values", "any", b"", doc="the uint8 elements, one byte each"),
        Arg("shape", "ints", (), doc="the output shape"),
    ]
    + Y_ARGS,
    shape=_fill_shape(np.uint8),
    example=Example(
        {},
        {"Tensor": Int8Tensor(np.array([[1, 2], [3, 255]], np.uint8), 2.0, 10)},
        {
            "values": b"\x01\x02\x03\xff",
            "shape": [2, 2],
            "Y_scale": 2.0,
            "Y_zero_point": 10,
        },
    ),
    doc="""Create a uint8 Int8 tensor of `shape` from the bytes of the string `values`
(byte i is element i in row-major order), with scale Y_scale and zero point
Y_zero_point. The number of bytes must equal the number of elements ("output size: N
given size: M"; Caffe2 checked it only in debug builds).

Example: values=b"\\x01\\x02\\x03\\xff", shape=[2, 2], Y_scale=2, Y_zero_point=10 ->
Tensor=[[1, 2], [3, 255]] (uint8, scale 2, zero point 10)""",
)
def int8_given_tensor_fill(
    *, values: Any, shape: Any, Y_scale: float, Y_zero_point: int
) -> tuple:
    dims = _dims(shape)
    data = np.frombuffer(_as_bytes(values), dtype=np.uint8)
    _check_size(dims, data.size)
    return (
        Int8Tensor(
            data.reshape(dims).copy(), float(np.float32(Y_scale)), int(Y_zero_point)
        ),
    )


@register_cpu_operator(
    "Int8GivenIntTensorFill",
    inputs=[],
    outputs=["Tensor"],
    args=[
        Arg("values", "ints", (), doc="the int32 elements"),
        Arg("shape", "ints", (), doc="the output shape"),
    ]
    + Y_ARGS,
    shape=_fill_shape(np.int32),
    example=Example(
        {},
        {"Tensor": Int8Tensor(np.array([2, -7], np.int32), 10.0, 4)},
        {"values": [2, -7], "shape": [2], "Y_scale": 10.0, "Y_zero_point": 4},
    ),
    doc="""Create an int32 Int8 tensor (the form of Int8Conv and Int8FC biases) of
`shape` from the integer list `values`, with scale Y_scale and zero point
Y_zero_point. The number of values must equal the number of elements.

Example: values=[2, -7], shape=[2], Y_scale=10, Y_zero_point=4 -> Tensor=[2, -7]
(int32, scale 10, zero point 4)""",
)
def int8_given_int_tensor_fill(
    *, values: Any, shape: Any, Y_scale: float, Y_zero_point: int
) -> tuple:
    dims = _dims(shape)
    ints = [int(v) for v in (values or ())]
    if any(v < -(1 << 31) or v >= 1 << 31 for v in ints):
        raise ArgumentError(
            "values must fit in int32",
            arg="values",
            expected="int32 values",
            found=ints,
        )
    data = np.array(ints, dtype=np.int32)
    _check_size(dims, data.size)
    return (
        Int8Tensor(data.reshape(dims), float(np.float32(Y_scale)), int(Y_zero_point)),
    )


no_gradient("Int8GivenTensorFill")
no_gradient("Int8GivenIntTensorFill")
