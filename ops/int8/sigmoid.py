"""Int8Sigmoid: the logistic function of a uint8 Int8 tensor through QNNPACK's
256-entry lookup table; the output scale is always 1/256 and its zero point 0."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import Y_ARGS, int8_input

FAILURE = "failed to create QNNPACK Sigmoid operator"


def _shape(x: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


def lookup_table(input_scale: float, input_zero_point: int) -> np.ndarray:
    """lrintf(clamp(256 / (1 + expf(-scale * (i - zero_point)), 0, 255)), float32."""
    f = np.float32
    x = f(input_scale) * (
        np.arange(256, dtype=np.int32) - np.int32(input_zero_point)
    ).astype(f)
    with np.errstate(over="ignore"):
        y = f(256.0) / (f(1.0) + np.exp(-x))
    return np.rint(np.clip(y, f(0), f(255))).astype(np.uint8)


@register_cpu_operator(
    "Int8Sigmoid",
    inputs=["input"],
    outputs=["output"],
    args=Y_ARGS,
    shape=_shape,
    example=Example(
        {"input": Int8Tensor(np.array([0, 100, 128, 255], np.uint8), 0.05, 128)},
        {"output": Int8Tensor(np.array([0, 51, 128, 255], np.uint8), 1 / 256, 0)},
        {"Y_scale": 1 / 256, "Y_zero_point": 0},
    ),
    doc="""Sigmoid of a uint8 Int8 tensor, element-wise, as QNNPACK computes it: a table
t[i] = lrintf(min(max(256 / (1 + exp(-X.scale * (i - X.zero_point))), 0), 255)) in
float32, then Y = t[X]. Y_scale must be 1/256 and Y_zero_point 0 (Caffe2 CHECKs); Y
has X's shape.

Example: input=[0, 100, 128, 255] (scale 0.05, zero point 128) with Y_scale=1/256 ->
output=[0, 51, 128, 255] (sigmoid(-6.4) * 256 = 0.42, sigmoid(-1.4) * 256 = 50.6,
0.5 * 256 = 128, sigmoid(6.35) * 256 = 255.55 clamped)""",
)
def int8_sigmoid(x, *, Y_scale: float, Y_zero_point: int) -> tuple:
    q = int8_input(x, "input")
    if Y_zero_point != 0:
        raise EnforceError(
            f"Check failed: Y_zero_point == 0 ({Y_zero_point} vs. 0)",
            arg="Y_zero_point",
            expected=0,
            found=Y_zero_point,
        )
    if np.float32(Y_scale) != np.float32(1 / 256):
        raise EnforceError(
            f"Check failed: Y_scale == 1.0f / 256.0f ({Y_scale} vs. 0.00390625)",
            arg="Y_scale",
            expected=1 / 256,
            found=Y_scale,
        )
    s = np.float32(q.scale)
    if not (s > 0 and np.isfinite(s) and s >= np.finfo(np.float32).tiny):
        raise EnforceError(
            FAILURE,
            blob="input",
            expected="a positive normal input scale",
            found=q.scale,
        )
    table = lookup_table(q.scale, q.zero_point)
    return (Int8Tensor(table[q.data], float(np.float32(Y_scale)), 0),)


gradient_not_implemented_yet("Int8Sigmoid")
