"""Int8Reshape: Reshape (0 and -1 rules) of an Int8 tensor, keeping its quantisation."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, dispatch
from ..shape.reshape import _shape as reshape_shape
from ..shape.reshape import resolve_shape
from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation

_INT = (np.dtype(np.int32), np.dtype(np.int64))


def _shape(
    data: TensorShape, new_shape: TensorShape | None = None, *, shape=None, **kwargs
):
    y, old = reshape_shape(data, new_shape, shape=shape)
    return (y.with_dtype(np.dtype(np.uint8)), old)


@register_cpu_operator(
    "Int8Reshape",
    inputs=["data", "new_shape"],
    outputs=["reshaped", "old_shape"],
    num_inputs=(1, 2),
    args=[
        Arg("shape", "ints", None, doc="the new shape (not with the new_shape input)")
    ]
    + Y_ARGS,
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example(
        {"data": Int8Tensor(np.arange(6, dtype=np.uint8), 0.5, 3)},
        {
            "reshaped": Int8Tensor(np.arange(6, dtype=np.uint8).reshape(3, 2), 0.5, 3),
            "old_shape": np.array([6], np.int64),
        },
        {"shape": [3, -1], "Y_scale": 0.5, "Y_zero_point": 3},
    ),
    doc="""Reshape an Int8 tensor as Reshape does (the `shape` argument or the 1-D
int32/int64 new_shape input; 0 copies data's dimension, one -1 takes the rest).
reshaped keeps data's scale and zero point, which the Y_scale and Y_zero_point
arguments must equal (Caffe2 CHECKs); old_shape (int64, or new_shape's type) holds
data's shape. In place allowed.

Example: data=[0, 1, 2, 3, 4, 5] (scale 0.5, zero point 3) with shape=[3, -1],
Y_scale=0.5, Y_zero_point=3 -> reshaped=[[0, 1], [2, 3], [4, 5]], old_shape=[6]""",
)
def int8_reshape(data, *new_shape, shape, Y_scale: float, Y_zero_point: int) -> tuple:
    q = int8_input(data, "data")
    index_type = np.dtype(np.int64)
    if new_shape:
        index_type = dispatch(new_shape[0], "new_shape", _INT)
        if shape is not None:
            raise ArgumentError(
                "New shape is specified by the input blob, do not pass in "
                "the argument `shape`.",
                arg="shape",
                expected="no shape argument with a new_shape input",
                found=list(shape),
            )
        if new_shape[0].ndim != 1:
            raise ShapeError(
                "Shape should be 1-D",
                blob="new_shape",
                expected="1-D",
                found=f"shape {dims(new_shape[0].shape)}",
            )
        wanted = [int(v) for v in new_shape[0].tolist()]
    elif shape is None:
        raise ArgumentError(
            "Argument `shape` is missing.",
            arg="shape",
            expected="the shape argument or a new_shape input",
        )
    else:
        wanted = list(shape)
    same_quantisation(q, Y_scale, Y_zero_point)
    out = resolve_shape(wanted, q.data.shape, q.data.size)
    return (
        Int8Tensor(q.data.reshape(out), q.scale, q.zero_point),
        np.array(q.data.shape, dtype=index_type),
    )


gradient_not_implemented_yet("Int8Reshape")
