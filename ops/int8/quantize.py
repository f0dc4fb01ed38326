"""Int8Quantize: float32 X -> uint8 Int8 tensor with scale Y_scale and zero point."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import DTypeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import Y_ARGS, float_input, quantize_uint8


def _shape(x: TensorShape, *qparams: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


def _scalar(value, blob: str, kinds: str):
    if (
        not isinstance(value, np.ndarray)
        or value.size != 1
        or value.dtype.kind not in kinds
    ):
        raise DTypeError(
            f"{blob} must be a one-element tensor",
            blob=blob,
            expected="one element",
            found=getattr(value, "shape", value),
        )
    return value.reshape(-1)[0]


@register_cpu_operator(
    "Int8Quantize",
    inputs=["X", "Scale qparam", "Zero-point qparam"],
    outputs=["Y"],
    num_inputs=(1, 3),
    args=Y_ARGS,
    shape=_shape,
    example=Example(
        {"X": np.array([-1.0, 0.0, 0.26, 10.0], np.float32)},
        {"Y": Int8Tensor(np.array([0, 2, 3, 22], np.uint8), 0.5, 2)},
        {"Y_scale": 0.5, "Y_zero_point": 2},
    ),
    doc="""Quantise a float32 tensor linearly to uint8: Y = clamp(Y_zero_point +
nearbyint(X / Y_scale), 0, 255), the division in float32 and ties to even, as
Caffe2's QuantizeUint8. Y is an Int8 tensor of X's shape carrying Y_scale and
Y_zero_point. The optional inputs (a one-element float tensor, a one-element integer
tensor) replace Y_scale and Y_zero_point when given. NaN quantises to the zero point
(Caffe2 left it undefined).

Example: X=[-1, 0, 0.26, 10] with Y_scale=0.5, Y_zero_point=2 -> Y=[0, 2, 3, 22]
(uint8, scale 0.5, zero point 2)""",
)
def int8_quantize(x, *qparams, Y_scale: float, Y_zero_point: int) -> tuple:
    float_input(x, "X")
    if len(qparams) >= 1:
        Y_scale = float(_scalar(qparams[0], "Scale qparam", "f"))
    if len(qparams) >= 2:
        Y_zero_point = int(_scalar(qparams[1], "Zero-point qparam", "iu"))
    return (
        Int8Tensor(
            quantize_uint8(x, Y_scale, Y_zero_point),
            float(np.float32(Y_scale)),
            int(Y_zero_point),
        ),
    )


gradient_not_implemented_yet("Int8Quantize")
