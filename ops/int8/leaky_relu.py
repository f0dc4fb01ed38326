"""Int8LeakyRelu: y = x above the zero point, alpha * (x - zero_point) + zero_point
below it, in gemmlowp fixed point."""

from __future__ import annotations

import numpy as np

from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import (
    Y_ARGS,
    int8_input,
    multiply_by_quantized_multiplier,
    quantize_multiplier_smaller_than_one,
)
from ._same_q import same_quantisation


def _shape(x: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


@register_cpu_operator(
    "Int8LeakyRelu",
    inputs=["X"],
    outputs=["Y"],
    args=[
        Arg(
            "alpha",
            float,
            0.01,
            doc="slope below zero, in (0, 1)",
            check=lambda a: 0.0 < np.float32(a) < 1.0,
            check_message="alpha must lie in (0, 1)",
            expected="0 < alpha < 1",
        ),
        *Y_ARGS,
    ],
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example(
        {"X": Int8Tensor(np.array([0, 50, 100, 200], np.uint8), 0.1, 100)},
        {"Y": Int8Tensor(np.array([50, 75, 100, 200], np.uint8), 0.1, 100)},
        {"alpha": 0.5, "Y_scale": 0.1, "Y_zero_point": 100},
    ),
    doc="""Leaky rectified linear unit on a uint8 Int8 tensor: values at or above the
zero point are kept; below it, y = zero_point + alpha * (x - zero_point) with alpha as
a gemmlowp fixed-point multiplier (QuantizeMultiplierSmallerThanOne, rounding doubling
high multiply, rounding right shift). alpha must lie in (0, 1). Y keeps X's scale and
zero point, which Y_scale and Y_zero_point must equal. In place allowed.

Example: X=[0, 50, 100, 200] (zero point 100) with alpha=0.5 -> Y=[50, 75, 100, 200]""",
)
def int8_leaky_relu(x, *, alpha: float, Y_scale: float, Y_zero_point: int) -> tuple:
    q = int8_input(x, "X")
    same_quantisation(q, Y_scale, Y_zero_point)
    m, s = quantize_multiplier_smaller_than_one(float(np.float32(alpha)))
    d = q.data.astype(np.int64) - q.zero_point
    low = multiply_by_quantized_multiplier(d, m, s) + q.zero_point
    y = np.where(q.data < q.zero_point, low, q.data).astype(np.uint8)
    return (Int8Tensor(y, q.scale, q.zero_point),)


gradient_not_implemented_yet("Int8LeakyRelu")
