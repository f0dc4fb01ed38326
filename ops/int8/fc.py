"""Int8FC: a quantised fully connected layer (Y = X W^T + b on uint8 data, int32
accumulation, QNNPACK requantisation to Y_scale / Y_zero_point)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape, dim_product

from ._q8 import Y_ARGS, int8_input, qnnp_requantize, qnnp_scale

FAILURE = "failed to create QNNPACK fully connected operator"


def _shape(
    x: TensorShape, w: TensorShape, b: TensorShape, **kwargs
) -> tuple[TensorShape]:
    if x.dims is None or w.dims is None or len(x.dims) < 1 or len(w.dims) < 1:
        return (TensorShape(None, np.dtype(np.uint8)),)
    return (TensorShape((dim_product(x.dims[:1]), w.dims[0]), np.dtype(np.uint8)),)


@register_cpu_operator(
    "Int8FC",
    inputs=["X", "W", "b"],
    outputs=["Y"],
    args=Y_ARGS,
    shape=_shape,
    example=Example(
        {
            "X": Int8Tensor(np.array([[1, 2, 3], [4, 5, 6]], np.uint8), 1.0, 0),
            "W": Int8Tensor(np.array([[1, 0, 1], [2, 2, 2]], np.uint8), 0.5, 0),
            "b": Int8Tensor(np.array([1, -4], np.int32), 0.5, 0),
        },
        {"Y": Int8Tensor(np.array([[2, 2], [3, 7]], np.uint8), 2.0, 0)},
        {"Y_scale": 2.0, "Y_zero_point": 0},
    ),
    doc="""Fully connected layer on Int8 tensors: X is coerced to (M, K) with M =
X.dim(0) and K the product of the other dims (Caffe2's Int8FC ignores `axis`), W is
(N, K) uint8, b an int32 Int8 tensor of N values. The accumulator
sum_k (X - X.zero_point)(W - W.zero_point) + b is requantised as QNNPACK does
(multiplier X.scale * W.scale / Y_scale in float32, which must be below 1, else
"failed to create QNNPACK fully connected operator"), giving a uint8 (M, N) tensor
with Y_scale and Y_zero_point.

Example: X=[[1, 2, 3], [4, 5, 6]] (scale 1), W=[[1, 0, 1], [2, 2, 2]] (scale 0.5),
b=[1, -4] with Y_scale=2 -> Y=[[2, 2], [3, 7]] (the accumulators 5, 8, 11, 26
times 0.25, rounded as QNNPACK rounds: twice, to nearest with ties away from zero)""",
)
def int8_fc(x, w, b, *, Y_scale: float, Y_zero_point: int) -> tuple:
    qx, qw = int8_input(x, "X"), int8_input(w, "W")
    qb = int8_input(b, "b", np.int32)
    if qx.data.ndim < 1 or qw.data.ndim < 1:
        raise ShapeError(
            "X and W must have at least one dimension",
            blob="X",
            expected="rank >= 1",
            found=(qx.data.ndim, qw.data.ndim),
        )
    m = qx.data.shape[0]
    k = int(np.prod(qx.data.shape[1:], dtype=np.int64))
    n = qw.data.shape[0]
    kw = int(np.prod(qw.data.shape[1:], dtype=np.int64)) if qw.data.ndim > 1 else 1
    if qw.data.ndim != 2 or k != qw.data.shape[1]:
        raise EnforceError(
            f"Check failed: K == W.t.size(1) ({k} vs. {kw})",
            blob="W",
            expected=f"W of shape ({n}, {k})",
            found=list(qw.data.shape),
        )
    if qb.data.size != n:
        raise EnforceError(
            f"Check failed: N == B.t.numel() ({n} vs. {qb.data.size})",
            blob="b",
            expected=f"{n} bias values",
            found=qb.data.size,
        )
    scale = qnnp_scale(qx.scale, qw.scale, Y_scale, FAILURE, "fully connected")
    xs = qx.data.reshape(m, k).astype(np.int64) - qx.zero_point
    ws = qw.data.astype(np.int64) - qw.zero_point
    acc = xs @ ws.T + qb.data.astype(np.int64)
    y = qnnp_requantize(acc, scale, Y_zero_point, 0, 255)
    return (Int8Tensor(y, float(np.float32(Y_scale)), int(Y_zero_point)),)


gradient_not_implemented_yet("Int8FC")
