"""ONNX converters of Caffe2's sparse-feature dropout ops at the ratios where they
are not random: ratio 0 keeps every id, ratio 1 replaces every list (or every id) by
``replacement_value``. Between the two they draw at random, which ONNX inference
cannot reproduce, and they are listed as unexportable."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter


@converter("SparseDropoutWithReplacement", "SparseItemwiseDropoutWithReplacement")
def sparse_dropout(ctx: OpContext, op: Any, args: dict) -> None:
    x, lengths = op.input
    y, out_lengths = op.output
    ratio = args["ratio"]
    if ratio <= 0.0:
        ctx.one("Identity", [x], y)
        ctx.one("Identity", [lengths], out_lengths)
        return
    if ratio < 1.0:
        raise Unsupported(
            f"ratio {ratio:g} drops at random; only 0 and 1 are deterministic"
        )
    fill = np.array([args["replacement_value"]], ctx.dtype(x, np.int64))
    if op.type == "SparseItemwiseDropoutWithReplacement":  # every id replaced
        ctx.one("ConstantOfShape", [ctx.one("Shape", [x])], y, value=fill)
        ctx.one("Identity", [lengths], out_lengths)
        return
    # Every list, an empty one too, becomes the one replacement value.
    segments = ctx.one("Shape", [lengths])
    ctx.one("ConstantOfShape", [segments], y, value=fill)
    ones = np.ones(1, ctx.dtype(lengths, np.int32))
    ctx.one("ConstantOfShape", [segments], out_lengths, value=ones)
