"""Int8Relu: Y = max(X, X.zero_point) on a uint8 Int8 tensor (QNNPACK's clamp)."""

from __future__ import annotations

import numpy as np

from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape, pointwise_cost

from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation


def _shape(x: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


@register_cpu_operator(
    "Int8Relu",
    inputs=["X"],
    outputs=["Y"],
    args=Y_ARGS,
    allow_inplace=[(0, 0)],
    shape=_shape,
    cost=pointwise_cost(0),  # Caffe2: PointwiseCostInference<0>, no parameter bytes
    example=Example(
        {"X": Int8Tensor(np.array([0, 9, 10, 200], np.uint8), 0.5, 10)},
        {"Y": Int8Tensor(np.array([10, 10, 10, 200], np.uint8), 0.5, 10)},
        {"Y_scale": 0.5, "Y_zero_point": 10},
    ),
    doc="""Rectified linear unit on a uint8 Int8 tensor: values below the zero point (the
quantised 0) become the zero point. Y keeps X's shape, scale and zero point; the
Y_scale and Y_zero_point arguments must equal them (Caffe2 CHECKs). In place allowed.

Example: X=[0, 9, 10, 200] (scale 0.5, zero point 10) with Y_scale=0.5,
Y_zero_point=10 -> Y=[10, 10, 10, 200]""",
)
def int8_relu(x, *, Y_scale: float, Y_zero_point: int) -> tuple:
    q = int8_input(x, "X")
    same_quantisation(q, Y_scale, Y_zero_point)
    y = np.maximum(q.data, np.uint8(min(max(q.zero_point, 0), 255)))
    return (Int8Tensor(y, q.scale, q.zero_point),)


gradient_not_implemented_yet("Int8Relu")
