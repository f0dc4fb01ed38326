"""FloatToFused{4,2}BitFakeRowwiseQuantized and HalfToFused{4,2}BitFakeRowwiseQuantized
(Caffe2 fused_rowwise_nbit_conversion_ops): N-bit rowwise quantisation stored in the
fused 8-bit layout, one table row per op."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import last_dim_shape, quantize_fake_nbit

_DOC = """Fake {bits}-bit rowwise quantisation of a {kind} tensor: the values
FloatTo/HalfToFused{bits}BitRowwiseQuantized would produce, stored unpacked in the
fused 8-bit layout, so that Fused8BitRowwiseQuantizedToFloat (and the fused 8-bit
lookups) read the {bits}-bit rounding of the data.

Every dimension but the last indexes rows (any number of columns). For a row with
minimum lo and maximum hi: bias = float16(lo), scale = float16((hi - bias) / {top})
(1 when that is 0 or its inverse is infinite), code = clip(rint((x - bias) * (1 /
scale)), 0, {top}) in float32 arithmetic (ties to even). The output row is the C
codes, one per byte, then the scale and the bias as float32 (8 little-endian bytes):
the last dimension grows by 8. A float16 scale that rounds to 0 left Caffe2's codes
undefined (1/0); here it is 1, as in the packed op. Rows with no columns are an
error (Caffe2 read past the row). With engine="GREEDY" the row's range comes from
Caffe2's greedy search instead (see the GREEDY entry of this op).

{example}"""

_X4 = [[0.0, 0.5, 1.0, 7.5]]
_Y4 = [[0, 1, 2, 15, 0, 0, 0, 63, 0, 0, 0, 0]]
_X2 = [[-1.0, 0.0, 1.0, 2.0, 0.5]]
_Y2 = [[0, 1, 2, 3, 2, 0, 0, 128, 63, 0, 0, 128, 191]]
_T4 = (
    "Example: input=[[0, 0.5, 1, 7.5]] -> output=[[0, 1, 2, 15, 0, 0, 0, 63, 0, 0, 0, "
    "0]] (codes 0, 1, 2, 15; scale 0.5; bias 0)"
)
_T2 = (
    "Example: input=[[-1, 0, 1, 2, 0.5]] -> output=[[0, 1, 2, 3, 2, 0, 0, 128, 63, 0, "
    "0, 128, 191]] (codes 0, 1, 2, 3, 2 (1.5 rounds to even); scale 1; bias -1)"
)

_ROWS = [
    ("Float", np.float32, 4, _X4, _Y4, _T4),
    ("Float", np.float32, 2, _X2, _Y2, _T2),
    ("Half", np.float16, 4, _X4, _Y4, _T4),
    ("Half", np.float16, 2, _X2, _Y2, _T2),
]


def _register(kind: str, dtype, bits: int, x, y, example: str) -> None:
    op_type = f"{kind}ToFused{bits}BitFakeRowwiseQuantized"

    @register_cpu_operator(
        op_type,
        inputs=["input"],
        outputs=["output"],
        shape=last_dim_shape(lambda c: c + 8, "{}+8", np.uint8),
        example=Example(
            {"input": np.array(x, dtype)}, {"output": np.array(y, np.uint8)}
        ),
        doc=_DOC.format(
            bits=bits,
            kind=np.dtype(dtype).name,
            top=(1 << bits) - 1,
            example=example,
        ),
    )
    def kernel(data):
        check_dtype(data, "input", dtype)
        return (quantize_fake_nbit(data.astype(np.float32, copy=False), bits),)

    kernel.__name__ = kernel.__qualname__ = (
        f"{kind.lower()}_to_fused_{bits}bit_fake_rowwise_quantized"
    )
    no_gradient(op_type)


for _row in _ROWS:
    _register(*_row)
