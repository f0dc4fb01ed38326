"""ONNX converters of Caffe2's reductions (over axes, over the front or back
dimensions, over the whole tensor), ArgMax/ArgMin and the losses (one small function
per family)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter

REDUCE = {
    "ReduceSum": "ReduceSum",
    "ReduceMean": "ReduceMean",
    "ReduceMax": "ReduceMax",
    "ReduceMin": "ReduceMin",
    "ReduceL1": "ReduceL1",
    "ReduceL2": "ReduceL2",
}


FRONT_BACK = {
    "ReduceFrontSum": "ReduceSum",
    "ReduceBackSum": "ReduceSum",
    "ReduceFrontMean": "ReduceMean",
    "ReduceBackMean": "ReduceMean",
    "ReduceFrontMax": "ReduceMax",
    "ReduceBackMax": "ReduceMax",
}


def reduce_node(
    ctx: OpContext,
    kind: str,
    x: str,
    axes: list[int],
    keepdims: bool,
    out: str | None = None,
) -> str:
    """ONNX reduction over ``axes`` (empty: all), axes as an input where the opset
    wants it (ReduceSum from 13, the others from 18)."""
    as_input = ctx.opset >= (13 if kind == "ReduceSum" else 18)
    if not axes:
        axes = list(range(ctx.rank(x)))
    if as_input:
        return ctx.one(kind, [x, ctx.ints(axes)], out, keepdims=int(keepdims))
    return ctx.one(kind, [x], out, axes=list(axes), keepdims=int(keepdims))


@converter(*REDUCE)
def reduce(ctx: OpContext, op: Any, args: dict) -> None:
    reduce_node(
        ctx,
        REDUCE[op.type],
        op.input[0],
        list(args["axes"]),
        args["keepdims"],
        op.output[0],
    )


@converter(*FRONT_BACK)
def reduce_front_back(ctx: OpContext, op: Any, args: dict) -> None:
    if len(op.input) > 1:
        raise Unsupported("per-row lengths (input 'lengths')")
    x, n = op.input[0], args["num_reduce_dim"]
    rank = ctx.rank(x)
    axes = list(range(n)) if "Front" in op.type else list(range(rank - n, rank))
    if not axes:
        ctx.one("Identity", [x], op.output[0])
        return
    reduce_node(ctx, FRONT_BACK[op.type], x, axes, False, op.output[0])


@converter("ArgMax", "ArgMin")
def arg_max_min(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one(
        op.type,
        [op.input[0]],
        op.output[0],
        axis=args["axis"],
        keepdims=int(args["keepdims"]),
    )


@converter("LpNorm", "SumElements", "SumSqrElements", "SumElementsInt")
def whole_reductions(ctx: OpContext, op: Any, args: dict) -> None:
    """One number for all of X: LpNorm (p=1: sum |x|; p=2: sum x^2, no root), as a
    1-element vector; SumElements / SumSqrElements, as a scalar; ``average`` divides
    by X's size."""
    x = op.input[0]
    squares = op.type == "SumSqrElements" or (op.type == "LpNorm" and args["p"] == 2)
    if op.type == "LpNorm" and args["p"] not in (1, 2):
        raise Unsupported(f"p={args['p']}")
    if op.type == "LpNorm" and args["p"] == 1:
        x = ctx.one("Abs", [x])
    elif squares:
        x = ctx.one("Mul", [x, x])
    total = reduce_node(ctx, "ReduceSum", x, list(range(ctx.rank(op.input[0]))), False)
    if args.get("average"):
        n = ctx.one(
            "Cast",
            [ctx.one("Size", [op.input[0]])],
            to=1 if ctx.dtype(x) == np.float32 else 11,
        )
        total = ctx.one("Div", [total, n])
    if op.type == "LpNorm":
        ctx.one("Reshape", [total, ctx.ints([1])], op.output[0])
    else:
        ctx.one("Identity", [total], op.output[0])


@converter("SigmoidCrossEntropyWithLogits", "WeightedSigmoidCrossEntropyWithLogits")
def sigmoid_cross_entropy(ctx: OpContext, op: Any, args: dict) -> None:
    """The mean over the last axis of max(x, 0) - x t + log(1 + exp(-|x|)), Caffe2's
    stable form of the logistic loss."""
    if args.get("log_D_trick") or args.get("unjoined_lr_loss"):
        raise Unsupported("log_D_trick or unjoined_lr_loss")
    x, t = op.input[:2]
    soft = ctx.one(
        "Log",
        [
            ctx.one(
                "Add",
                [
                    ctx.scalar_like(1.0, x),
                    ctx.one("Exp", [ctx.one("Neg", [ctx.one("Abs", [x])])]),
                ],
            )
        ],
    )
    loss = ctx.one(
        "Add", [ctx.one("Sub", [ctx.one("Relu", [x]), ctx.one("Mul", [x, t])]), soft]
    )
    if len(op.input) > 2:  # weighted, element by element
        loss = ctx.one("Mul", [loss, op.input[2]])
    reduce_node(ctx, "ReduceMean", loss, [ctx.rank(x) - 1], False, op.output[0])


@converter("AveragedLoss")
def averaged_loss(ctx: OpContext, op: Any, args: dict) -> None:
    reduce_node(ctx, "ReduceMean", op.input[0], [], False, op.output[0])


def row_sum(ctx: OpContext, values: str, rank: int, out: str | None = None) -> str:
    """Per-row sums of a tensor read as N = dim 0 rows (a vector: N rows of one value;
    a scalar: one row), shape (N,)."""
    if rank >= 2:
        return reduce_node(ctx, "ReduceSum", values, list(range(1, rank)), False, out)
    if rank == 1:
        return ctx.one("Identity", [values], out)
    return ctx.one("Reshape", [values, ctx.ints([1])], out)


@converter("L1Distance", "SquaredL2Distance", "CosineSimilarity")
def row_distances(ctx: OpContext, op: Any, args: dict) -> None:
    """Row by row: sum |x - y|; half of sum (x - y)^2; <x, y> / sqrt(max(|x|^2, 1e-12)
    max(|y|^2, 1e-12))."""
    x, y = op.input
    rank = ctx.rank(x)
    if op.type == "L1Distance":
        row_sum(ctx, ctx.one("Abs", [ctx.one("Sub", [x, y])]), rank, op.output[0])
    elif op.type == "SquaredL2Distance":
        d = ctx.one("Sub", [x, y])
        half = ctx.one("Mul", [ctx.one("Mul", [d, d]), ctx.scalar_like(0.5, x)])
        row_sum(ctx, half, rank, op.output[0])
    else:
        eps = ctx.scalar_like(1e-12, x)
        dot = row_sum(ctx, ctx.one("Mul", [x, y]), rank)
        nx = ctx.one("Max", [row_sum(ctx, ctx.one("Mul", [x, x]), rank), eps])
        ny = ctx.one("Max", [row_sum(ctx, ctx.one("Mul", [y, y]), rank), eps])
        norm = ctx.one("Sqrt", [ctx.one("Mul", [nx, ny])])
        ctx.one("Div", [dot, norm], op.output[0])


@converter("LabelCrossEntropy", "CrossEntropy")
def cross_entropy(ctx: OpContext, op: Any, args: dict) -> None:
    """-log(max(p, 1e-20)) of each row's label (LabelCrossEntropy), or summed against
    the row's label distribution (CrossEntropy); X read as N rows."""
    x, label = op.input
    rows = (
        ctx.one("Flatten", [x], axis=1) if ctx.rank(x) != 1 else ctx.unsqueeze(x, [0])
    )
    logs = ctx.one(
        "Neg", [ctx.one("Log", [ctx.one("Max", [rows, ctx.scalar_like(1e-20, x)])])]
    )
    if op.type == "CrossEntropy":
        soft = (
            ctx.one("Flatten", [label], axis=1)
            if ctx.rank(label) != 1
            else ctx.unsqueeze(label, [0])
        )
        row_sum(ctx, ctx.one("Mul", [logs, soft]), 2, op.output[0])
        return
    at = ctx.one("Reshape", [ctx.one("Cast", [label], to=7), ctx.ints([-1, 1])])
    picked = ctx.one("GatherElements", [logs, at], axis=1)
    ctx.one("Reshape", [picked, ctx.ints([-1])], op.output[0])


@converter("MakeTwoClass")
def make_two_class(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    r = ctx.rank(x)
    neg = ctx.one("Sub", [ctx.scalar_like(1.0, x), x])
    ctx.one(
        "Concat", [ctx.unsqueeze(neg, [r]), ctx.unsqueeze(x, [r])], op.output[0], axis=r
    )


@converter("RowwiseMax", "ColwiseMax")
def rowwise_colwise_max(ctx: OpContext, op: Any, args: dict) -> None:
    """X is (B, M, N): the max of each row (axis 2) or column (axis 1)."""
    axis = 2 if op.type == "RowwiseMax" else 1
    reduce_node(ctx, "ReduceMax", op.input[0], [axis], False, op.output[0])
