"""Fused8BitRowwiseQuantizedToFloat (Caffe2 fused_rowwise_8bit_conversion_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import dequantize_fused8, last_dim_shape


@register_cpu_operator(
    "Fused8BitRowwiseQuantizedToFloat",
    inputs=["scale_bias_quantized_input"],
    outputs=["float_output"],
    shape=last_dim_shape(lambda c: c - 8, "{}-8", np.float32),
    example=Example(
        {
            "scale_bias_quantized_input": np.array(
                [[0, 2, 4, 0, 0, 0, 63, 0, 0, 128, 191]], np.uint8
            )
        },
        {"float_output": np.array([[-1.0, 0.0, 1.0]], np.float32)},
    ),
    doc="""De-quantise fused 8-bit rows (FloatToFused8BitRowwiseQuantized's format):
each row's last 8 bytes are its float32 scale and float32 bias, the bytes before
them its uint8 codes; value = code * scale + bias in float32. The last dimension
shrinks by 8 (it must be at least 8); every other dimension is kept.

Example: scale_bias_quantized_input=[[0, 2, 4, 0, 0, 0, 63, 0, 0, 128, 191]]
(codes 0, 2, 4; scale 0.5; bias -1) -> float_output=[[-1, 0, 1]]""",
)
def fused_8bit_rowwise_quantized_to_float(x):
    """Float32 values of fused 8-bit rows."""
    return (dequantize_fused8(x),)


no_gradient("Fused8BitRowwiseQuantizedToFloat")
