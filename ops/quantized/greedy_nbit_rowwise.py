"""The GREEDY engine of the N-bit rowwise quantisers (Caffe2
fused_rowwise_nbit_conversion_ops and fused_rowwise_nbitfake_conversion_ops):
{Float,Half}ToFused{4,2}BitRowwiseQuantized and {Float,Half}ToFused{4,2}BitFakeRowwiseQuantized
with ``engine="GREEDY"``, which quantise each row over a range found by a search
instead of [min, max] (``_rowwise.greedy_range``)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator

from ._rowwise import last_dim_shape, quantize_fake_nbit, quantize_fused_nbit

_DOC = """{op_type} with the GREEDY engine: the same output layout as the default
engine, but each row is quantised over the range Caffe2's greedy search picks
instead of [min, max]. The search starts from [lo, hi] = [min, max] with a step of
(max - min) / 200; while more than 168 steps (int(200 * (1 - 0.16))) separate lo and
hi it computes the L2 error of quantising the row over [lo + step, hi] and over [lo,
hi - step] and moves the end whose move loses less; a range whose error is below
both moves' and below every earlier such range becomes the answer (else [min, max]
stays). Errors are computed as Caffe2's AVX loop did (float32, 8 lanes). The bias
and scale then follow from that range as in the default engine: bias =
float16(lo), scale = float16((hi - bias) / {top}), codes clipped to [0, {top}].

Example: input=[[0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 8]] ({kind}) -> output={out}
({range}; the default engine gives {plain})"""

_ROW = [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 8]
_RANGE = {4: "range [0.08, 7.96]", 2: "range [0.76, 8]"}


def _register(kind: str, dtype, bits: int, fake: bool) -> None:
    op_type = f"{kind}ToFused{bits}Bit{'Fake' if fake else ''}RowwiseQuantized"
    per = 8 // bits
    quantize = quantize_fake_nbit if fake else quantize_fused_nbit
    x = np.array([_ROW], dtype)
    y = quantize(x.astype(np.float32), bits, True)
    plain = quantize(x.astype(np.float32), bits)
    shape = (last_dim_shape(lambda c: c + 8, "{}+8", np.uint8) if fake else
             last_dim_shape(lambda c: (c + per - 1) // per + 4, f"ceil({{}}/{per})+4",
                            np.uint8))

    @register_cpu_operator(
        op_type,
        engine="GREEDY",
        inputs=["input"],
        outputs=["output"],
        shape=shape,
        example=Example({"input": x}, {"output": y}),
        doc=_DOC.format(op_type=op_type, top=(1 << bits) - 1, kind=np.dtype(dtype).name,
                        out=y.tolist(), range=_RANGE[bits], plain=plain.tolist()),
    )
    def kernel(data):
        check_dtype(data, "input", dtype)
        return (quantize(data.astype(np.float32, copy=False), bits, True),)

    kernel.__name__ = kernel.__qualname__ = (
        f"{kind.lower()}_to_fused_{bits}bit{'_fake' if fake else ''}_rowwise_quantized_greedy")


for _kind, _dtype in (("Float", np.float32), ("Half", np.float16)):
    for _bits in (4, 2):
        for _fake in (False, True):
            _register(_kind, _dtype, _bits, _fake)
