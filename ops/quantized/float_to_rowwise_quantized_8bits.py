"""FloatToRowwiseQuantized8Bits (Caffe2 lengths_reducer_rowwise_8bit_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

# A row whose max - min is below this is stored as scale 1, bias min, codes 0.
EQUALITY_THRESHOLD = np.float32(1e-10)


def _shape(x: TensorShape) -> tuple[TensorShape, ...]:
    rows = x.dims[0] if x.dims else "rows"
    return (TensorShape(x.dims, np.uint8), TensorShape((rows, 2), np.float32))


@register_cpu_operator(
    "FloatToRowwiseQuantized8Bits",
    inputs=["input"],
    outputs=["quantized_input", "scale_bias"],
    shape=_shape,
    example=Example(
        {"input": np.array([[-1.0, 0.0, 1.0], [2.0, 2.0, 2.0]], np.float32)},
        {
            "quantized_input": np.array([[0, 127, 255], [0, 0, 0]], np.uint8),
            "scale_bias": np.array([[2 / 255, -1.0], [1.0, 2.0]], np.float32),
        },
    ),
    doc="""Quantise a float32 tensor row by row to uint8 codes plus a separate
(scale, bias) per row (the format SparseLengthsSum8BitsRowwise reads).

The input (rank >= 1) is viewed as a matrix (dim 0, product of the other dims). For
a row with minimum lo and maximum hi: scale = (hi - lo) / 255, bias = lo, and code =
round((x - bias) * (1 / scale)), rounding halves away from zero (Eigen's round). A
row with hi - lo < 1e-10 gets scale 1, bias lo and codes 0. quantized_input has the
input's shape; scale_bias is float32 of shape (dim 0, 2).

Example: input=[[-1, 0, 1], [2, 2, 2]] -> quantized_input=[[0, 127, 255], [0, 0, 0]],
scale_bias=[[2/255, -1], [1, 2]] (1 * (1 / scale) is 127.49999 in float32)""",
)
def float_to_rowwise_quantized_8bits(x):
    """uint8 codes and per-row (scale, bias) of a float32 tensor."""
    check_dtype(x, "input", np.float32)
    if x.ndim < 1:
        raise ShapeError(
            "the input must have at least one dimension",
            blob="input",
            expected="rank >= 1",
            found="a 0-D tensor",
        )
    rows = np.ascontiguousarray(x).reshape(x.shape[0], int(np.prod(x.shape[1:])))
    if rows.shape[1] == 0 and rows.shape[0] > 0:
        # Caffe2 took the minimum of an empty row (undefined).
        raise ShapeError(
            "rows to quantize must have at least one element",
            blob="input",
            expected="a non-empty row",
            found="empty rows",
        )
    if rows.shape[0] == 0:
        return np.zeros(x.shape, np.uint8), np.zeros((0, 2), np.float32)
    lo, hi = rows.min(axis=1), rows.max(axis=1)
    flat = (hi - lo) < EQUALITY_THRESHOLD
    scale = np.where(flat, np.float32(1), (hi - lo) / np.float32(255))
    inverse = np.float32(1) / scale
    scaled = (rows - lo[:, None]) * inverse[:, None]
    codes = np.floor(scaled + np.float32(0.5))  # scaled >= 0: halves away from zero
    codes[flat] = 0
    np.clip(codes, 0, 255, out=codes)
    scale_bias = np.stack([scale, lo], axis=1).astype(np.float32)
    return codes.astype(np.uint8).reshape(x.shape), scale_bias


no_gradient("FloatToRowwiseQuantized8Bits")
