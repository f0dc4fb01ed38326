"""HalfToFused{4,2}BitRowwiseQuantized and Fused{4,2}BitRowwiseQuantizedToHalf
(Caffe2 fused_rowwise_nbit_conversion_ops): the float16 ends of the fused N-bit
rowwise formats, one table row per op."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import dequantize_fused_nbit, last_dim_shape, quantize_fused_nbit

_QDOC = """Quantise each row of a float16 tensor to {bits}-bit codes ({per} per byte,
low bits first) with the row's float16 scale and bias fused after the codes:
FloatToFused{bits}BitRowwiseQuantized applied to the values widened to float32.

Every dimension but the last indexes rows; the last must be a multiple of {per}.
For a row with minimum lo and maximum hi: bias = lo, scale = float16((hi - bias) /
{top}) (1 when that is 0 or its inverse is infinite), code = clip(rint((x - bias) *
(1 / scale)), 0, {top}) in float32 arithmetic (ties to even). The last dimension
becomes C / {per} + 4.

{example}"""

_DDOC = """De-quantise fused {bits}-bit rows to float16: each row's last 4 bytes are
its float16 scale and float16 bias, the bytes before them its codes, {per} per byte,
low bits first; value = scale * code + bias computed in float32, then rounded to
float16. The last dimension C becomes (C - 4) * {per} (C must be at least 4).

{example}"""

_ROWS = [
    (
        4,
        np.array([[0.0, 0.5, 1.0, 7.5]], np.float16),
        np.array([[16, 242, 0, 56, 0, 0]], np.uint8),
        (
            "Example: input=[[0, 0.5, 1, 7.5]] (float16) -> output=[[16, 242, 0, 56, 0, "
            "0]] (codes 0, 1, 2, 15; scale 0.5; bias 0)"
        ),
        np.array([[16, 242, 0, 56, 0, 188]], np.uint8),
        np.array([[-1.0, -0.5, 0.0, 6.5]], np.float16),
        (
            "Example: scale_bias_quantized_input=[[16, 242, 0, 56, 0, 188]] (codes 0, 1, "
            "2, 15; scale 0.5; bias -1) -> float16_output=[[-1, -0.5, 0, 6.5]]"
        ),
    ),
    (
        2,
        np.array([[0.0, 1.0, 2.0, 3.0]], np.float16),
        np.array([[228, 0, 60, 0, 0]], np.uint8),
        (
            "Example: input=[[0, 1, 2, 3]] (float16) -> output=[[228, 0, 60, 0, 0]] "
            "(codes 0, 1, 2, 3; scale 1; bias 0)"
        ),
        np.array([[228, 0, 60, 0, 188]], np.uint8),
        np.array([[-1.0, 0.0, 1.0, 2.0]], np.float16),
        (
            "Example: scale_bias_quantized_input=[[228, 0, 60, 0, 188]] (codes 0, 1, 2, "
            "3; scale 1; bias -1) -> float16_output=[[-1, 0, 1, 2]]"
        ),
    ),
]


def _register(bits, qx, qy, qtext, dx, dy, dtext) -> None:
    per = 8 // bits
    top = (1 << bits) - 1
    q_type = f"HalfToFused{bits}BitRowwiseQuantized"
    d_type = f"Fused{bits}BitRowwiseQuantizedToHalf"

    @register_cpu_operator(
        q_type,
        inputs=["input"],
        outputs=["output"],
        shape=last_dim_shape(
            lambda c: (c + per - 1) // per + 4, f"ceil({{}}/{per})+4", np.uint8
        ),
        example=Example({"input": qx}, {"output": qy}),
        doc=_QDOC.format(bits=bits, per=per, top=top, example=qtext),
    )
    def quantize(data):
        check_dtype(data, "input", np.float16)
        return (quantize_fused_nbit(data.astype(np.float32), bits),)

    @register_cpu_operator(
        d_type,
        inputs=["scale_bias_quantized_input"],
        outputs=["float16_output"],
        shape=last_dim_shape(lambda c: (c - 4) * per, f"({{}}-4)*{per}", np.float16),
        example=Example({"scale_bias_quantized_input": dx}, {"float16_output": dy}),
        doc=_DDOC.format(bits=bits, per=per, example=dtext),
    )
    def dequantize(data):
        with np.errstate(over="ignore"):
            return (dequantize_fused_nbit(data, bits).astype(np.float16),)

    quantize.__name__ = quantize.__qualname__ = (
        f"half_to_fused_{bits}bit_rowwise_quantized"
    )
    dequantize.__name__ = dequantize.__qualname__ = (
        f"fused_{bits}bit_rowwise_quantized_to_half"
    )
    no_gradient(q_type)
    no_gradient(d_type)


for _row in _ROWS:
    _register(*_row)
