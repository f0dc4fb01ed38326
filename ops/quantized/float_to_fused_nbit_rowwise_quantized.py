"""FloatToFused4BitRowwiseQuantized and FloatToFused2BitRowwiseQuantized (Caffe2
fused_rowwise_nbit_conversion_ops): one table row per bit rate."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import last_dim_shape, quantize_fused_nbit

_DOC = """Quantise each row of a float32 tensor to {bits}-bit codes ({per} per byte,
low bits first), with the row's float16 scale and bias fused after the codes
(Caffe2's fused {bits}-bit rowwise format).

Every dimension but the last indexes rows; the last must be a multiple of {per}.
For a row with minimum lo and maximum hi: bias = float16(lo), scale =
float16((hi - bias) / {top}) (1 when that is 0 or its inverse is infinite), and each
value becomes clip(rint((x - bias) * (1 / scale)), 0, {top}) (float32 arithmetic,
ties to even). The output row is the packed codes then the scale and the bias as
float16, so the last dimension becomes C / {per} + 4.

{example}"""

_ROWS = [
    (
        4,
        np.array([[0.0, 0.5, 1.0, 7.5]], np.float32),
        np.array([[16, 242, 0, 56, 0, 0]], np.uint8),
        (
            "Example: input=[[0, 0.5, 1, 7.5]] -> output=[[16, 242, 0, 56, 0, 0]] (codes 0, "
            "1, 2, 15; scale 0.5; bias 0)"
        ),
    ),
    (
        2,
        np.array([[0.0, 1.0, 2.0, 3.0]], np.float32),
        np.array([[228, 0, 60, 0, 0]], np.uint8),
        (
            "Example: input=[[0, 1, 2, 3]] -> output=[[228, 0, 60, 0, 0]] (codes 0, 1, 2, "
            "3; scale 1; bias 0)"
        ),
    ),
]


def _register(bits: int, x: np.ndarray, y: np.ndarray, example: str) -> None:
    per = 8 // bits
    op_type = f"FloatToFused{bits}BitRowwiseQuantized"

    @register_cpu_operator(
        op_type,
        inputs=["input"],
        outputs=["output"],
        shape=last_dim_shape(
            lambda c: (c + per - 1) // per + 4, f"ceil({{}}/{per})+4", np.uint8
        ),
        example=Example({"input": x}, {"output": y}),
        doc=_DOC.format(bits=bits, per=per, top=(1 << bits) - 1, example=example),
    )
    def kernel(data):
        check_dtype(data, "input", np.float32)
        return (quantize_fused_nbit(data, bits),)

    kernel.__name__ = kernel.__qualname__ = (
        f"float_to_fused_{bits}bit_rowwise_quantized"
    )
    no_gradient(op_type)


for _row in _ROWS:
    _register(*_row)
