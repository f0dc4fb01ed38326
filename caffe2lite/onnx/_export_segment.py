"""ONNX converters of Caffe2's segment ops (LengthsSum and its family, the sparse
forms that gather rows first, segment-id sums, LengthsTile, LengthsToSegmentIds).

ONNX has no segment reduction; each is written with a segment id per row (row r
belongs to the segment whose running end first exceeds r: a comparison against the
CumSum of the lengths) and ScatterND with a reduction (opset 16; "max" opset 18)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter

LENGTHS = {
    "LengthsSum": "add",
    "LengthsMean": "mean",
    "LengthsWeightedSum": "add",
    "LengthsMax": "max",
}
SPARSE = {
    "SparseLengthsSum": "add",
    "SparseLengthsMean": "mean",
    "SparseLengthsWeightedSum": "add",
}


def _scalar(ctx: OpContext, one: str) -> str:
    return ctx.squeeze(one, [0])


def segment_ids(ctx: OpContext, lengths: str, rows: str) -> str:
    """The segment of each row of ``rows`` (int64), from the segment lengths.

    From opset 16: a 1 added where each segment after the first starts (ScatterND
    with reduction, so empty segments add up), then a running sum; linear in the rows
    and segments. Before: each row compared with every segment end."""
    ends = ctx.one(
        "CumSum",
        [ctx.one("Cast", [lengths], to=7), ctx.const(np.int64(0), hint="axis")],
    )
    total = ctx.shape_part(rows, 0, 1)
    if ctx.opset >= 16:
        starts = ctx.one("Slice", [ends, ctx.ints([0]), ctx.ints([-1]), ctx.ints([0])])
        size = ctx.one("Add", [total, ctx.ints([1])])  # a start may equal the total
        marks = ctx.one("ConstantOfShape", [size], value=np.zeros(1, np.int64))
        ones = ctx.one(
            "ConstantOfShape", [ctx.one("Shape", [starts])], value=np.ones(1, np.int64)
        )
        marks = ctx.one(
            "ScatterND", [marks, ctx.unsqueeze(starts, [1]), ones], reduction="add"
        )
        seg = ctx.one("CumSum", [marks, ctx.const(np.int64(0), hint="axis")])
        return ctx.one("Slice", [seg, ctx.ints([0]), total, ctx.ints([0])])
    r = ctx.one(
        "Range",
        [
            ctx.const(np.int64(0), hint="zero"),
            _scalar(ctx, total),
            ctx.const(np.int64(1), hint="one"),
        ],
    )
    ge = ctx.one("GreaterOrEqual", [ctx.unsqueeze(r, [1]), ctx.unsqueeze(ends, [0])])
    return ctx.one(
        "ReduceSum", [ctx.one("Cast", [ge], to=7), ctx.ints([1])], keepdims=0
    )


def scatter_segments(
    ctx: OpContext, rows: str, seg: str, count: str, how: str, dtype: np.dtype,
    out: str | None
) -> str:
    """``count`` segments (a 1-element int64 tensor), each the sum or max of its rows;
    an empty segment is 0."""
    if ctx.opset < (18 if how == "max" else 16):
        raise Unsupported(
            f"ScatterND with reduction '{how}' needs opset "
            f"{18 if how == 'max' else 16} or later"
        )
    lowest = np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min
    start = np.array([lowest if how == "max" else 0], dtype)
    shape = ctx.one("Concat", [count, ctx.shape_part(rows, 1, None)], axis=0)
    base = ctx.one("ConstantOfShape", [shape], value=start)
    return ctx.one(
        "ScatterND",
        [base, ctx.unsqueeze(seg, [1]), rows],
        None if how == "max" else out,
        reduction=how,
    )


def _per_row(ctx: OpContext, values: str, like_rank: int) -> str:
    """A vector of one value per row, shaped to broadcast against the rows."""
    return ctx.unsqueeze(values, list(range(1, like_rank))) if like_rank > 1 else values


@converter(*LENGTHS, *SPARSE)
def lengths_reduce(ctx: OpContext, op: Any, args: dict) -> None:
    """(Sparse)Lengths{Sum,Mean,WeightedSum,Max}: rows (gathered by INDICES for the
    sparse forms, scaled by the weights for the weighted ones) reduced per segment."""
    data = op.input[0]
    indices = op.input[-2] if op.type.startswith("Sparse") else None
    weights = op.input[1] if "Weighted" in op.type else None
    how = {**LENGTHS, **SPARSE}[op.type]
    reduce_lengths(ctx, data, indices, weights, op.input[-1], how, op.output[0])


def reduce_lengths(
    ctx: OpContext,
    data: str,
    indices: str | None,
    weights: str | None,
    lengths: str,
    how: str,
    out: str,
) -> None:
    """Rows of data (gathered by ``indices``, scaled by ``weights``) reduced (``how``:
    add, mean or max) per segment of ``lengths``, into ``out``."""
    rank = ctx.rank(data)
    dtype = ctx.dtype(data)
    rows = data if indices is None else ctx.one("Gather", [data, indices], axis=0)
    if weights is not None:
        rows = ctx.one("Mul", [rows, _per_row(ctx, weights, rank)])
    seg = segment_ids(ctx, lengths, rows)
    count = ctx.shape_part(lengths, 0, 1)
    mean = how == "mean"
    y = scatter_segments(
        ctx, rows, seg, count, "add" if mean else how, dtype, None if mean else out
    )
    if how == "max":
        zero = ctx.const(np.zeros((), ctx.dtype(lengths, np.int32)), hint="zero")
        empty = _per_row(ctx, ctx.one("Equal", [lengths, zero]), rank)
        ctx.one("Where", [empty, ctx.const(np.zeros((), dtype), hint="zero"), y], out)
    elif mean:
        n = ctx.one("Cast", [lengths], to=_onnx_type(dtype))
        n = ctx.one("Max", [n, ctx.const(np.ones((), dtype), hint="one")])
        ctx.one("Div", [y, _per_row(ctx, n, rank)], out)


def _onnx_type(dtype: np.dtype) -> int:
    return {
        np.dtype(np.float32): 1,
        np.dtype(np.float64): 11,
        np.dtype(np.float16): 10,
    }[np.dtype(dtype)]


SEGMENTS = (
    "SortedSegmentSum",
    "UnsortedSegmentSum",
    "SortedSegmentMean",
    "UnsortedSegmentMean",
    "SparseSortedSegmentSum",
    "SparseUnsortedSegmentSum",
    "SparseSortedSegmentMean",
    "SparseUnsortedSegmentMean",
)


@converter(*SEGMENTS)
def segment_reduce(ctx: OpContext, op: Any, args: dict) -> None:
    """Rows (gathered by INDICES for the sparse forms) summed or averaged into the
    segment SEGMENT_IDS names; num_segments segments, or the largest id + 1."""
    data, ids = op.input[0], op.input[-1]
    rows = data
    if op.type.startswith("Sparse"):
        rows = ctx.one("Gather", [data, op.input[1]], axis=0)
    seg = ctx.one("Cast", [ids], to=7)
    if args.get("num_segments", -1) > 0:
        count = ctx.ints([args["num_segments"]])
    else:
        count = ctx.one("Add", [_max(ctx, seg), ctx.ints([1])])
    dtype = ctx.dtype(data)
    mean = op.type.endswith("Mean")
    y = scatter_segments(
        ctx, rows, seg, count, "add", dtype, None if mean else op.output[0]
    )
    if mean:
        ones = ctx.one(
            "ConstantOfShape", [ctx.one("Shape", [seg])], value=np.ones(1, dtype)
        )
        n = scatter_segments(ctx, ones, seg, count, "add", dtype, None)
        n = ctx.one("Max", [n, ctx.const(np.ones((), dtype), hint="one")])
        ctx.one("Div", [y, _per_row(ctx, n, ctx.rank(data))], op.output[0])


def _positions(ctx: OpContext, lengths: str) -> tuple[str, str, str]:
    """0 .. sum(lengths) - 1, the segment of each position, and the segments' ends."""
    ends = ctx.one(
        "CumSum",
        [ctx.one("Cast", [lengths], to=7), ctx.const(np.int64(0), hint="axis")],
    )
    total = ctx.one(
        "ReduceSum", [ctx.one("Cast", [lengths], to=7), ctx.ints([0])], keepdims=1
    )
    rows = ctx.one(
        "Range",
        [
            ctx.const(np.int64(0), hint="zero"),
            _scalar(ctx, total),
            ctx.const(np.int64(1), hint="one"),
        ],
    )
    return rows, segment_ids(ctx, lengths, rows), ends


@converter("LengthsToSegmentIds")
def lengths_to_segment_ids(ctx: OpContext, op: Any, args: dict) -> None:
    _, seg, _ = _positions(ctx, op.input[0])
    ctx.one("Cast", [seg], op.output[0], to=6)  # INT32


@converter("LengthsTile")
def lengths_tile(ctx: OpContext, op: Any, args: dict) -> None:
    data, lengths = op.input
    _, seg, _ = _positions(ctx, lengths)
    ctx.one("Gather", [data, seg], op.output[0], axis=0)


@converter("LengthsRangeFill")
def lengths_range_fill(ctx: OpContext, op: Any, args: dict) -> None:
    """Each position minus its segment's start: 0 .. length - 1 per segment."""
    lengths = op.input[0]
    rows, seg, ends = _positions(ctx, lengths)
    starts = ctx.one("Sub", [ends, ctx.one("Cast", [lengths], to=7)])
    ctx.one(
        "Cast",
        [ctx.one("Sub", [rows, ctx.one("Gather", [starts, seg], axis=0)])],
        op.output[0],
        to=6,
    )


@converter("LengthsToRanges")
def lengths_to_ranges(ctx: OpContext, op: Any, args: dict) -> None:
    """(start, length) per segment, int32."""
    lengths = ctx.one("Cast", [op.input[0]], to=7)
    starts = ctx.one(
        "CumSum", [lengths, ctx.const(np.int64(0), hint="axis")], exclusive=1
    )
    pair = ctx.one(
        "Concat", [ctx.unsqueeze(starts, [1]), ctx.unsqueeze(lengths, [1])], axis=1
    )
    ctx.one("Cast", [pair], op.output[0], to=6)


@converter("SparseToDense")
def sparse_to_dense(ctx: OpContext, op: Any, args: dict) -> None:
    """Rows of values summed into the rows their indices name; as many rows as
    data_to_infer_dim has, or output_first_dim, or the largest index + 1."""
    indices, values = op.input[:2]
    seg = ctx.one("Cast", [indices], to=7)
    if len(op.input) > 2:
        count = ctx.shape_part(op.input[2], 0, 1)
    elif args["output_first_dim"] > 0:
        count = ctx.ints([args["output_first_dim"]])
    else:
        count = ctx.one("Add", [_max(ctx, seg), ctx.ints([1])])
    scatter_segments(ctx, values, seg, count, "add", ctx.dtype(values), op.output[0])


def _max(ctx: OpContext, x: str) -> str:
    if ctx.opset < 18:
        return ctx.one("ReduceMax", [x], keepdims=1)
    return ctx.one("ReduceMax", [x, ctx.ints([0])], keepdims=1)


@converter("FillExamplesWithIndicator")
def fill_examples_with_indicator(ctx: OpContext, op: Any, args: dict) -> None:
    """data's rows written, in order, at the marked examples (marks past data's rows
    stay zero); the other rows are zero."""
    data, indicator = op.input
    marked = ctx.one("NonZero", [indicator])  # (1, marks)
    n = ctx.shape_part(data, 0, 1)
    at = ctx.one(
        "Slice", [ctx.transpose(marked, [1, 0]), ctx.ints([0]), n, ctx.ints([0])]
    )
    shape = ctx.one(
        "Concat",
        [ctx.shape_part(indicator, 0, 1), ctx.shape_part(data, 1, None)],
        axis=0,
    )
    zeros = ctx.one("ConstantOfShape", [shape], value=np.zeros(1, ctx.dtype(data)))
    ctx.one("ScatterND", [zeros, at, data], op.output[0])


@converter("GatherRanges")
def gather_ranges(ctx: OpContext, op: Any, args: dict) -> None:
    """DATA[start:start + length] for every (start, length) of RANGES (N, M, 2), in
    order, and each example's total length: position p of range r reads start[r] +
    (p - the offset where range r begins)."""
    data, ranges = op.input
    pairs = ctx.one("Cast", [ctx.one("Reshape", [ranges, ctx.ints([-1, 2])])], to=7)
    starts, lens = (
        ctx.squeeze(part, [1])
        for part in ctx.node("Split", [pairs, ctx.ints([1, 1])], 2, axis=1)
    )
    rows, seg, ends = _positions(ctx, lens)
    offset = ctx.one("Sub", [starts, ctx.one("Sub", [ends, lens])])
    at = ctx.one("Add", [rows, ctx.one("Gather", [offset, seg], axis=0)])
    ctx.one("Gather", [data, at], op.output[0], axis=0)
    if len(op.output) > 1 and ctx.used(op.output[1]):
        per_example = ctx.one(
            "Reshape",
            [
                lens,
                ctx.one(
                    "Concat", [ctx.shape_part(ranges, 0, 1), ctx.ints([-1])], axis=0
                ),
            ],
        )
        total = ctx.one("ReduceSum", [per_example, ctx.ints([1])], keepdims=0)
        ctx.one("Cast", [total], op.output[1], to=6)
