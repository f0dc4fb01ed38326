"""Fused4BitRowwiseQuantizedToFloat and Fused2BitRowwiseQuantizedToFloat (Caffe2
fused_rowwise_nbit_conversion_ops): one table row per bit rate."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import dequantize_fused_nbit, last_dim_shape

_DOC = """De-quantise fused {bits}-bit rows (FloatToFused{bits}BitRowwiseQuantized's
format): each row's last 4 bytes are its float16 scale and float16 bias, the bytes
before them its codes, {per} per byte, low bits first; value = scale * code + bias in
float32. The last dimension C becomes (C - 4) * {per} (C must be at least 4).

{example}"""

_ROWS = [
    (
        4,
        np.array([[16, 242, 0, 56, 0, 188]], np.uint8),
        np.array([[-1.0, -0.5, 0.0, 6.5]], np.float32),
        (
            "Example: scale_bias_quantized_input=[[16, 242, 0, 56, 0, 188]] (codes 0, 1, "
            "2, 15; scale 0.5; bias -1) -> float_output=[[-1, -0.5, 0, 6.5]]"
        ),
    ),
    (
        2,
        np.array([[228, 0, 60, 0, 188]], np.uint8),
        np.array([[-1.0, 0.0, 1.0, 2.0]], np.float32),
        (
            "Example: scale_bias_quantized_input=[[228, 0, 60, 0, 188]] (codes 0, 1, 2, 3; "
            "scale 1; bias -1) -> float_output=[[-1, 0, 1, 2]]"
        ),
    ),
]


def _register(bits: int, x: np.ndarray, y: np.ndarray, example: str) -> None:
    per = 8 // bits
    op_type = f"Fused{bits}BitRowwiseQuantizedToFloat"

    @register_cpu_operator(
        op_type,
        inputs=["scale_bias_quantized_input"],
        outputs=["float_output"],
        shape=last_dim_shape(lambda c: (c - 4) * per, f"({{}}-4)*{per}", np.float32),
        example=Example({"scale_bias_quantized_input": x}, {"float_output": y}),
        doc=_DOC.format(bits=bits, per=per, example=example),
    )
    def kernel(data):
        return (dequantize_fused_nbit(data, bits),)

    kernel.__name__ = kernel.__qualname__ = (
        f"fused_{bits}bit_rowwise_quantized_to_float"
    )
    no_gradient(op_type)


for _row in _ROWS:
    _register(*_row)
