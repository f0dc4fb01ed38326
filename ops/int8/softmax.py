"""Int8Softmax: softmax of each row of a uint8 Int8 tensor, as QNNPACK's SoftArgMax
computes it (a 256-entry exp table and a rounded integer normalisation); the output
scale is always 1/256 and its zero point 0."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._q8 import Y_ARGS, int8_input

FAILURE = "failed to create QNNPACK SoftArgMax operator"


def _shape(x: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


def lookup_table(channels: int, input_scale: float) -> np.ndarray:
    """QNNPACK's table: lrint(qscale * exp((i - 255) * input_scale)) for i in 0..255,
    qscale = min(UINT32_MAX / channels, 2**23 - 1)."""
    qscale = min(float(2**32 - 1) / float(channels), 8388607.0)
    i = np.arange(256, dtype=np.float64)
    return np.rint(
        qscale * np.exp((i - 255.0) * float(np.float32(input_scale)))
    ).astype(np.int64)


@register_cpu_operator(
    "Int8Softmax",
    inputs=["input"],
    outputs=["output"],
    args=Y_ARGS
    + [
        Arg(
            "axis",
            int,
            1,
            doc="accepted; Caffe2's kernel always coerces "
            "the input to (dim 0, the rest)",
        )
    ],
    shape=_shape,
    example=Example(
        {"input": Int8Tensor(np.array([[0, 255], [100, 100]], np.uint8), 0.01, 0)},
        {"output": Int8Tensor(np.array([[19, 237], [128, 128]], np.uint8), 1 / 256, 0)},
        {"Y_scale": 1 / 256, "Y_zero_point": 0},
    ),
    doc="""Softmax over each row of a uint8 Int8 tensor coerced to (dim 0, product of the
other dims), the input zero point cancelling out. As QNNPACK computes it: a table
t[i] = lrint(qscale * exp((i - 255) * input scale)), qscale = min((2**32 - 1) /
channels, 2**23 - 1); per row, with m its largest value, e = t[x + 255 - m] and
y = min(255, (256 e + sum(e) / 2) // sum(e)) (integer division). Y_scale must be
1/256 and Y_zero_point 0 (Caffe2 CHECKs); Y has X's shape.

Example: input=[[0, 255], [100, 100]] (scale 0.01) with Y_scale=1/256 ->
output=[[19, 237], [128, 128]] (exp(-2.55) / (1 + exp(-2.55)) = 0.072 -> 19/256)""",
)
def int8_softmax(x, *, Y_scale: float, Y_zero_point: int, axis: int) -> tuple:
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
    if q.data.ndim < 1 or q.data.shape[0] == 0 or q.data.size == 0:
        raise ShapeError(
            "Int8Softmax needs at least one row of at least one value",
            blob="input",
            expected="a non-empty tensor",
            found=list(q.data.shape),
        )
    s = np.float32(q.scale)
    if not (s > 0 and np.isfinite(s) and s >= np.finfo(np.float32).tiny):
        raise EnforceError(
            FAILURE,
            blob="input",
            expected="a positive normal input scale",
            found=q.scale,
        )
    rows = q.data.reshape(q.data.shape[0], -1)
    table = lookup_table(rows.shape[1], q.scale)
    e = table[rows.astype(np.int64) + 255 - rows.max(axis=1, keepdims=True)]
    total = e.sum(axis=1, keepdims=True)  # at most 2**32 - 1 by the choice of qscale
    y = np.minimum(((e << 8) + (total >> 1)) // total, 255).astype(np.uint8)
    return (Int8Tensor(y.reshape(q.data.shape), float(np.float32(Y_scale)), 0),)


gradient_not_implemented_yet("Int8Softmax")
