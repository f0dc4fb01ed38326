"""HalfFloatToFused8BitRowwiseQuantized and Fused8BitRowwiseQuantizedToHalfFloat
(Caffe2 fused_rowwise_8bit_conversion_ops): the float16 ends of the fused 8-bit
rowwise format."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import dequantize_fused8, last_dim_shape, quantize_fused8


@register_cpu_operator(
    "HalfFloatToFused8BitRowwiseQuantized",
    inputs=["input"],
    outputs=["output"],
    shape=last_dim_shape(lambda c: c + 8, "{}+8", np.uint8),
    example=Example(
        {"input": np.array([[-1.0, 0.5, 1.0]], np.float16)},
        {
            "output": np.array(
                [[0, 191, 255, 129, 128, 0, 60, 0, 0, 128, 191]], np.uint8
            )
        },
    ),
    doc="""Quantise each row of a float16 tensor to 8 bits with the row's scale and
bias fused into the row: FloatToFused8BitRowwiseQuantized applied to the values
widened to float32 (the widening is exact).

Every dimension but the last indexes rows. For a row with minimum lo and maximum
hi: scale = (hi - lo) / 255, bias = lo, code = rint((x - lo) * 255 / (hi - lo +
1e-8)) in float32 arithmetic (ties to even). The output row is the uint8 codes then
the scale and the bias as float32 (8 little-endian bytes), so the last dimension
grows by 8. Rows with no columns are an error (Caffe2 read past the row).

Example: input=[[-1, 0.5, 1]] (float16) -> output=[[0, 191, 255, 129, 128, 0, 60,
0, 0, 128, 191]] (scale 2/255, bias -1)""",
)
def half_float_to_fused_8bit_rowwise_quantized(x):
    """Fused 8-bit rows of a float16 tensor."""
    check_dtype(x, "input", np.float16)
    return (quantize_fused8(x.astype(np.float32)),)


no_gradient("HalfFloatToFused8BitRowwiseQuantized")


@register_cpu_operator(
    "Fused8BitRowwiseQuantizedToHalfFloat",
    inputs=["scale_bias_quantized_input"],
    outputs=["float16_output"],
    shape=last_dim_shape(lambda c: c - 8, "{}-8", np.float16),
    example=Example(
        {
            "scale_bias_quantized_input": np.array(
                [[0, 2, 4, 0, 0, 0, 63, 0, 0, 128, 191]], np.uint8
            )
        },
        {"float16_output": np.array([[-1.0, 0.0, 1.0]], np.float16)},
    ),
    doc="""De-quantise fused 8-bit rows to float16: each row's last 8 bytes are its
float32 scale and float32 bias, the bytes before them its uint8 codes; value =
code * scale + bias computed in float32, then rounded to float16 (to nearest,
ties to even). The last dimension shrinks by 8 (it must be at least 8).

Example: scale_bias_quantized_input=[[0, 2, 4, 0, 0, 0, 63, 0, 0, 128, 191]]
(codes 0, 2, 4; scale 0.5; bias -1) -> float16_output=[[-1, 0, 1]]""",
)
def fused_8bit_rowwise_quantized_to_half_float(x):
    """Float16 values of fused 8-bit rows."""
    with np.errstate(over="ignore"):
        return (dequantize_fused8(x).astype(np.float16),)


no_gradient("Fused8BitRowwiseQuantizedToHalfFloat")
