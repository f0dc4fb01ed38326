"""Int8Dequantize: uint8 Int8 tensor qX -> float32 Y = scale * (qX - zero_point)."""

from __future__ import annotations

import numpy as np

from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import int8_input


def _shape(qx: TensorShape) -> tuple[TensorShape]:
    return (TensorShape(qx.dims, np.dtype(np.float32)),)


@register_cpu_operator(
    "Int8Dequantize",
    inputs=["qX"],
    outputs=["Y"],
    shape=_shape,
    example=Example(
        {"qX": Int8Tensor(np.array([0, 2, 3, 255], np.uint8), 0.5, 2)},
        {"Y": np.array([-1.0, 0.0, 0.5, 126.5], np.float32)},
    ),
    doc="""The float32 values an Int8 tensor stands for: Y = (qX - zero_point) * scale,
computed in float32 as Caffe2 did, same shape as qX.

Example: qX=[0, 2, 3, 255] (scale 0.5, zero point 2) -> Y=[-1, 0, 0.5, 126.5]""",
)
def int8_dequantize(qx) -> tuple:
    q = int8_input(qx, "qX")
    diff = q.data.astype(np.int32) - np.int32(q.zero_point)
    return ((diff.astype(np.float32) * np.float32(q.scale)).astype(np.float32),)


gradient_not_implemented_yet("Int8Dequantize")
