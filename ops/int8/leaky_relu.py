"""Int8LeakyRelu: leaky rectified linear unit of a uint8 Int8 tensor through QNNPACK's
256-entry lookup table (the output may take its own scale and zero point)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import Y_ARGS, int8_input

FAILURE = "failed to create QNNPACK Leaky ReLU operator"


def _shape(x: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


def lookup_table(
    alpha: float, x_scale: float, x_zp: int, y_scale: float, y_zp: int
) -> np.ndarray:
    """QNNPACK's table in float32: v = (X.scale / Y_scale) * (i - X.zero_point), times
    alpha below 0, clamped to [-Y_zero_point, 255 - Y_zero_point], lrintf, plus
    Y_zero_point."""
    f = np.float32
    ratio = f(x_scale) / f(y_scale)
    x = ratio * (np.arange(256, dtype=np.int32) - np.int32(x_zp)).astype(f)
    y = np.where(x < f(0), x * f(alpha), x).astype(f)
    y = np.clip(y, f(-y_zp), f(255 - y_zp))
    return (np.rint(y).astype(np.int64) + y_zp).astype(np.uint8)


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
    doc="""Leaky rectified linear unit of a uint8 Int8 tensor, element-wise, as QNNPACK
computes it: a table t[i] = lrintf(clamp(r * (i - X.zero_point) (times alpha when
negative), -Y_zero_point, 255 - Y_zero_point)) + Y_zero_point in float32 with
r = X.scale / Y_scale, then Y = t[X]. alpha must lie in (0, 1), r in [2**-8, 2**8)
("failed to create QNNPACK Leaky ReLU operator"). Y has Y_scale and Y_zero_point. In
place allowed.

Example: X=[0, 50, 100, 200] (scale 0.1, zero point 100) with alpha=0.5, Y_scale=0.1,
Y_zero_point=100 -> Y=[50, 75, 100, 200]""",
)
def int8_leaky_relu(x, *, alpha: float, Y_scale: float, Y_zero_point: int) -> tuple:
    q = int8_input(x, "X")
    if not 0 <= Y_zero_point <= 255:
        raise EnforceError(
            f"Check failed: Y_zero_point <= 255 ({Y_zero_point} vs. 255)",
            arg="Y_zero_point",
            expected="0..255",
            found=Y_zero_point,
        )
    ratio = np.float32(q.scale) / np.float32(Y_scale)
    if not (2.0**-8 <= ratio < 2.0**8):
        raise EnforceError(
            FAILURE, expected="X.scale / Y_scale in [2**-8, 2**8)", found=float(ratio)
        )
    table = lookup_table(alpha, q.scale, q.zero_point, Y_scale, Y_zero_point)
    return (Int8Tensor(table[q.data], float(np.float32(Y_scale)), int(Y_zero_point)),)


gradient_not_implemented_yet("Int8LeakyRelu")
