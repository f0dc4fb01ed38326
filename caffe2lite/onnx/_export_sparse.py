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


@converter("BatchSparseToDense")
def batch_sparse_to_dense(ctx: OpContext, op: Any, args: dict) -> None:
    """Row i of (len(lengths), dense_last_dim) holds its lengths[i] (index, value)
    pairs, default_value elsewhere; a repeated index keeps its last value: the winner
    of each cell is the largest position writing it (ScatterND max, opset 18)."""
    from caffe2lite.onnx._export_segment import segment_ids

    if ctx.opset < 18:
        raise Unsupported("the last-value-wins scatter needs opset 18 or later")
    lengths, indices, values = op.input[:3]
    if len(op.input) > 3:
        width = ctx.shape_part(op.input[3], 1, 2)
    elif args["dense_last_dim"] > 0:
        width = ctx.ints([args["dense_last_dim"]])
    else:
        raise Unsupported("no dense_last_dim")
    seg = segment_ids(ctx, lengths, indices)
    cols = ctx.one("Cast", [indices], to=7)
    cell = ctx.one("Add", [ctx.one("Mul", [seg, width]), cols])
    count = ctx.shape_part(indices, 0, 1)
    positions = ctx.one(
        "Range",
        [
            ctx.const(np.int64(0), hint="zero"),
            ctx.squeeze(count, [0]),
            ctx.const(np.int64(1), hint="one"),
        ],
    )
    cells = ctx.one("Mul", [ctx.shape_part(lengths, 0, 1), width])
    start = ctx.one("ConstantOfShape", [cells], value=np.array([-1], np.int64))
    winner = ctx.one(
        "ScatterND", [start, ctx.unsqueeze(cell, [1]), positions], reduction="max"
    )
    # Cells no pair writes read default_value, appended after the values.
    default = ctx.const(
        np.array([args["default_value"]], ctx.dtype(values)), hint="default"
    )
    padded = ctx.one("Concat", [values, default], axis=0)
    unset = ctx.one("Less", [winner, ctx.ints(0)])
    filled = ctx.one(
        "Gather", [padded, ctx.one("Where", [unset, count, winner])], axis=0
    )
    shape = ctx.one("Concat", [ctx.shape_part(lengths, 0, 1), width], axis=0)
    ctx.one("Reshape", [filled, shape], op.output[0])
