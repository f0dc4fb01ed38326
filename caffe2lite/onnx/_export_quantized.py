"""ONNX converters of Caffe2's row-wise quantized embedding lookups
(SparseLengths{Sum,WeightedSum,Mean}{8BitsRowwise,Fused8BitRowwise,Fused4BitRowwise,
Fused2BitRowwise}).

ONNX cannot reinterpret a row's trailing bytes as its float scale and bias, so these
export only when the quantized table is a constant (an initializer, as in a predictor):
it is dequantized once, by caffe2lite's own dequantize op, into a float table that
the lookup then reads as SparseLengths{Sum,WeightedSum,Mean} does. Every row's value
is the same scale * q + bias Caffe2 computed; only the summation order may differ."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter
from caffe2lite.onnx._export_segment import reduce_lengths

# op type -> (dequantize op, reduction, weighted, separate scale_bias input)
QUANTIZED = {}
for _bits, _deq in (
    ("Fused8Bit", "Fused8BitRowwiseQuantizedToFloat"),
    ("Fused4Bit", "Fused4BitRowwiseQuantizedToFloat"),
    ("Fused2Bit", "Fused2BitRowwiseQuantizedToFloat"),
    ("8Bits", "Rowwise8BitQuantizedToFloat"),
):
    for _kind, _how, _weighted in (
        ("Sum", "add", False),
        ("WeightedSum", "add", True),
        ("Mean", "mean", False),
        ("WeightedMean", "mean", True),
    ):
        if _kind == "WeightedMean" and _bits != "8Bits":
            continue  # Caffe2 had no such op
        QUANTIZED[f"SparseLengths{_kind}{_bits}Rowwise"] = (
            _deq,
            _how,
            _weighted,
            _bits == "8Bits",
        )


def _float_table(
    ctx: OpContext, op: Any, dequantize: str, separate: bool
) -> np.ndarray:
    """The quantized table (and its scale_bias) dequantized by caffe2lite."""
    from caffe2lite.proto import caffe2_pb2
    from caffe2lite.runtime.workspace import Workspace

    blobs = [op.input[0]] + ([op.input[-1]] if separate else [])
    values = [ctx.value(b) for b in blobs]
    if any(v is None for v in values):
        raise Unsupported("a quantized table that is not a constant (an initializer)")
    ws = Workspace()
    names = [f"q{i}" for i in range(len(values))]
    for name, value in zip(names, values):
        ws.feed_blob(name, value)
    ws.run_operator_once(
        caffe2_pb2.OperatorDef(type=dequantize, input=names, output=["f"])
    )
    return np.asarray(ws.fetch_blob("f"))


@converter(*(t for t in QUANTIZED))
def quantized_lengths_reduce(ctx: OpContext, op: Any, args: dict) -> None:
    dequantize, how, weighted, separate = QUANTIZED[op.type]
    ins = list(op.input[:-1]) if separate else list(op.input)
    table = ctx.const(_float_table(ctx, op, dequantize, separate), hint="table")
    weights = ins[1] if weighted else None
    reduce_lengths(ctx, table, ins[-2], weights, ins[-1], how, op.output[0])
