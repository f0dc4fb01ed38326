"""Rowwise8BitQuantizedToFloat (Caffe2 lengths_reducer_rowwise_8bit_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape


def _shape(q: TensorShape, scale_bias: TensorShape) -> tuple[TensorShape, ...]:
    return (TensorShape(q.dims, np.float32),)


@register_cpu_operator(
    "Rowwise8BitQuantizedToFloat",
    inputs=["quantized_input", "scale_bias"],
    outputs=["output"],
    shape=_shape,
    example=Example(
        {
            "quantized_input": np.array([[0, 2, 4], [1, 1, 0]], np.uint8),
            "scale_bias": np.array([[0.5, -1.0], [1.0, 2.0]], np.float32),
        },
        {"output": np.array([[-1.0, 0.0, 1.0], [3.0, 3.0, 2.0]], np.float32)},
    ),
    doc="""Restore a float32 tensor from FloatToRowwiseQuantized8Bits' codes: the
input is viewed as a matrix (dim 0, product of the other dims) and element (i, j)
becomes code * scale_bias[i, 0] + scale_bias[i, 1] (float32). The output has the
input's shape; scale_bias is float32 of shape (dim 0, 2).

Example: quantized_input=[[0, 2, 4], [1, 1, 0]], scale_bias=[[0.5, -1], [1, 2]]
-> output=[[-1, 0, 1], [3, 3, 2]]""",
)
def rowwise_8bit_quantized_to_float(q, scale_bias):
    """code * scale + bias per row."""
    check_dtype(scale_bias, "scale_bias", np.float32)
    check_ndim(scale_bias, "scale_bias", 2, "scale_bias has to be matrix")
    if q.ndim < 1:
        raise ShapeError(
            "quantized_input must have at least one dimension",
            blob="quantized_input",
            expected="rank >= 1",
            found="a 0-D tensor",
        )
    if q.shape[0] != scale_bias.shape[0]:
        raise ShapeError(
            f"input.dim(0) == scale_bias.dim(0). {q.shape[0]} vs {scale_bias.shape[0]}. "
            "scale_bias must have the same first dim as data",
            blob="scale_bias",
            expected=f"{q.shape[0]} rows",
            found=scale_bias.shape[0],
        )
    if scale_bias.shape[1] != 2:
        raise ShapeError(
            f"2 == scale_bias.dim(1). 2 vs {scale_bias.shape[1]}. the second dim of "
            "scale_bias has to be equal to 2",
            blob="scale_bias",
            expected="2 columns",
            found=scale_bias.shape[1],
        )
    check_dtype(q, "quantized_input", np.uint8)
    rows = q.reshape(q.shape[0], int(np.prod(q.shape[1:])))
    out = rows * scale_bias[:, :1]
    out += scale_bias[:, 1:]
    return (out.astype(np.float32, copy=False).reshape(q.shape),)


no_gradient("Rowwise8BitQuantizedToFloat")
