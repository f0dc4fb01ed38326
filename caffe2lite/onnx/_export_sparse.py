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
    cells = ctx.one("Mul", [ctx.shape_part(lengths, 0, 1), width])
    winner = _last_writer(ctx, cell, cells)
    count = ctx.shape_part(indices, 0, 1)
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


def _last_writer(ctx: OpContext, cell: str, cells: str) -> str:
    """For each of ``cells`` cells (a 1-element int64 tensor), the largest position
    whose ``cell`` names it, or -1 (ScatterND max, opset 18)."""
    count = ctx.shape_part(cell, 0, 1)
    positions = ctx.one(
        "Range",
        [
            ctx.const(np.int64(0), hint="zero"),
            ctx.squeeze(count, [0]),
            ctx.const(np.int64(1), hint="one"),
        ],
    )
    start = ctx.one("ConstantOfShape", [cells], value=np.array([-1], np.int64))
    return ctx.one(
        "ScatterND", [start, ctx.unsqueeze(cell, [1]), positions], reduction="max"
    )


@converter("SparseToDenseMask")
def sparse_to_dense_mask(ctx: OpContext, op: Any, args: dict) -> None:
    """Column j of each row holds the value of the row's last id equal to mask[j]
    (default_value when there is none); ids not in the mask, and negative ids, are
    left out. Caffe2's failure after ``max_skipped_indices`` rows with negative ids
    is not carried over."""
    from caffe2lite.onnx._export_segment import segment_ids

    if ctx.opset < 18:
        raise Unsupported("the last-value-wins scatter needs opset 18 or later")
    indices, values, default = op.input[:3]
    lengths = op.input[3] if len(op.input) > 3 else None
    mask = ctx.const(np.asarray(args["mask"], np.int64), hint="mask")
    width = ctx.ints([len(args["mask"])])
    ids = ctx.one("Cast", [indices], to=7)
    match = ctx.one("Cast", [ctx.one("Equal", [ctx.unsqueeze(ids, [1]), mask])], to=7)
    col = ctx.one("ArgMax", [match], axis=1, keepdims=0)
    hit = ctx.one(
        "Cast", [ctx.one("ReduceMax", [match, ctx.ints([1])], keepdims=0)], to=9
    )
    rows = ctx.shape_part(lengths, 0, 1) if lengths else ctx.ints([1])
    row = segment_ids(ctx, lengths, indices) if lengths else ctx.ints(0)
    cells = ctx.one("Mul", [rows, width])
    cell = ctx.one("Add", [ctx.one("Mul", [row, width]), col])
    # Ids outside the mask write one spare cell past the end.
    cell = ctx.one("Where", [hit, cell, cells])
    winner = _last_writer(ctx, cell, ctx.one("Add", [cells, ctx.ints([1])]))
    winner = ctx.one("Slice", [winner, ctx.ints([0]), cells, ctx.ints([0])])
    padded = ctx.one("Concat", [values, ctx.unsqueeze(default, [0])], axis=0)
    unset = ctx.one("Less", [winner, ctx.ints(0)])
    count = ctx.shape_part(indices, 0, 1)
    filled = ctx.one(
        "Gather", [padded, ctx.one("Where", [unset, count, winner])], axis=0
    )
    lead = [rows, width] if lengths else [width]
    shape = ctx.one("Concat", lead + [ctx.shape_part(default, 0, None)], axis=0)
    ctx.one("Reshape", [filled, shape], op.output[0])
    if len(op.output) > 1 and ctx.used(op.output[1]):
        present = ctx.one("Not", [unset])
        ctx.one("Reshape", [present, ctx.one("Concat", lead, axis=0)], op.output[1])
