"""FloatToFused8BitRowwiseQuantized (Caffe2 fused_rowwise_8bit_conversion_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import last_dim_shape, quantize_fused8


@register_cpu_operator(
    "FloatToFused8BitRowwiseQuantized",
    inputs=["input"],
    outputs=["output"],
    shape=last_dim_shape(lambda c: c + 8, "{}+8", np.uint8),
    example=Example(
        {"input": np.array([[-1.0, 0.5, 1.0]], np.float32)},
        {
            "output": np.array(
                [[0, 191, 255, 129, 128, 0, 60, 0, 0, 128, 191]], np.uint8
            )
        },
    ),
    doc="""Quantise each row of a float32 tensor to 8 bits, with the row's scale and
bias fused into the row (Caffe2's fused 8-bit rowwise format).

Every dimension but the last indexes rows (a 5x2x4 input is 10 rows of 4). For a row
with minimum lo and maximum hi: scale = (hi - lo) / 255, bias = lo, and each value
becomes the uint8 code rint((x - lo) * 255 / (hi - lo + 1e-8)) (float32 arithmetic,
ties to even, as Caffe2's lrintf). The output row is the codes followed by the
float32 scale and the float32 bias as 8 little-endian bytes, so the last dimension
grows by 8. Rows with no columns are an error (Caffe2 read past the row).

Example: input=[[-1, 0.5, 1]] -> output=[[0, 191, 255, 129, 128, 0, 60, 0, 0, 128,
191]] (scale 2/255, bias -1)""",
)
def float_to_fused_8bit_rowwise_quantized(x):
    """Fused 8-bit rows of a float32 tensor."""
    check_dtype(x, "input", np.float32)
    return (quantize_fused8(x),)


no_gradient("FloatToFused8BitRowwiseQuantized")
