"""ONNX converters of Caffe2's normalisation layers: SpatialBN, InstanceNorm,
LayerNorm, RMSNorm and LRN (one small function per op)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter
from caffe2lite.onnx._export_nn import _to_nchw
from caffe2lite.onnx._export_reduce import reduce_node


@converter("SpatialBN")
def spatial_bn(ctx: OpContext, op: Any, args: dict) -> None:
    if not args["is_test"]:
        raise Unsupported(
            "is_test=0 uses the batch's statistics (export the inference net)"
        )
    ctx.require_unused(*op.output[1:])
    x, back = _to_nchw(ctx, op.input[0], args["order"])
    y = ctx.one(
        "BatchNormalization",
        [x] + list(op.input[1:5]),
        None if back else op.output[0],
        epsilon=float(args["epsilon"]),
    )
    if back:
        ctx.transpose(y, back, op.output[0])


@converter("InstanceNorm")
def instance_norm(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.require_unused(*op.output[1:])
    x, back = _to_nchw(ctx, op.input[0], args["order"])
    y = ctx.one(
        "InstanceNormalization",
        [x] + list(op.input[1:3]),
        None if back else op.output[0],
        epsilon=float(args["epsilon"]),
    )
    if back:
        ctx.transpose(y, back, op.output[0])


@converter("LayerNorm")
def layer_norm(ctx: OpContext, op: Any, args: dict) -> None:
    """Rows of X (flattened at axis) normalised; ONNX's LayerNormalization (opset 17)
    over the same trailing dimensions. Caffe2's mean/stddev outputs are not given."""
    if ctx.opset < 17:
        raise Unsupported("LayerNormalization needs opset 17 or later")
    ctx.require_unused(*op.output[1:])
    x = op.input[0]
    rank = ctx.rank(x)
    axis = args["axis"] + rank if args["axis"] < 0 else args["axis"]
    tail = ctx.dims(x)[axis:]
    dtype = ctx.dtype(x)
    if args["elementwise_affine"] and len(op.input) == 3:
        gamma, beta = (ctx.one("Reshape", [b, ctx.ints(tail)]) for b in op.input[1:3])
    else:
        gamma = ctx.const(np.ones(tail, dtype), hint="gamma")
        beta = ctx.const(np.zeros(tail, dtype), hint="beta")
    ctx.one(
        "LayerNormalization",
        [x, gamma, beta],
        op.output[0],
        axis=axis,
        epsilon=float(args["epsilon"]),
    )


@converter("LRN")
def lrn(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.require_unused(*op.output[1:])
    x, back = _to_nchw(ctx, op.input[0], args["order"])
    y = ctx.one(
        "LRN",
        [x],
        None if back else op.output[0],
        size=args["size"],
        alpha=float(args["alpha"]),
        beta=float(args["beta"]),
        bias=float(args["bias"]),
    )
    if back:
        ctx.transpose(y, back, op.output[0])


@converter("RMSNorm")
def rms_norm(ctx: OpContext, op: Any, args: dict) -> None:
    """Rows of X (flattened at axis) times 1 / sqrt(mean(x^2) + eps), times gamma, plus
    beta; rrms is that factor per row."""
    x, gamma, beta = op.input
    rank = ctx.rank(x)
    axis = args["axis"] + rank if args["axis"] < 0 else args["axis"]
    tail = list(range(axis, rank))
    if len(tail) > 1:  # gamma and beta hold one value per row element
        gamma, beta = (
            ctx.one("Reshape", [v, ctx.ints(ctx.dims(x)[axis:])]) for v in (gamma, beta)
        )
    mean = reduce_node(ctx, "ReduceMean", ctx.one("Mul", [x, x]), tail, True)
    rrms = ctx.one(
        "Reciprocal",
        [ctx.one("Sqrt", [ctx.one("Add", [mean, ctx.scalar_like(args["eps"], x)])])],
    )
    scaled = ctx.one("Mul", [ctx.one("Mul", [x, rrms]), gamma])
    ctx.one("Add", [scaled, beta], op.output[0])
    if len(op.output) > 1 and ctx.used(op.output[1]):
        ctx.squeeze(rrms, tail, op.output[1])


def _per_channel(ctx: OpContext, v: str, rank: int, order: str) -> str:
    """A (C,) vector shaped to broadcast along X's channel dimension."""
    if order == "NHWC" or rank <= 2:
        return v
    shape = [-1] + [1] * (rank - 2)
    value = ctx.value(v)
    if value is not None:
        return ctx.const(value.reshape(shape), hint="channel")
    return ctx.one("Reshape", [v, ctx.ints(shape)])


@converter("AffineChannel")
def affine_channel(ctx: OpContext, op: Any, args: dict) -> None:
    x, scale, bias = op.input
    rank = ctx.rank(x)
    scaled = ctx.one("Mul", [x, _per_channel(ctx, scale, rank, args["order"])])
    ctx.one("Add", [scaled, _per_channel(ctx, bias, rank, args["order"])], op.output[0])


@converter("GroupNorm")
def group_norm(ctx: OpContext, op: Any, args: dict) -> None:
    """Each image's channels in ``group`` groups, each group normalised to mean 0 and
    variance 1 (+ epsilon), then gamma and beta per channel. Caffe2's mean and std
    outputs are not given."""
    ctx.require_unused(*op.output[1:])
    x, back = _to_nchw(ctx, op.input[0], args["order"])
    rank = ctx.rank(op.input[0])
    groups = ctx.one("Reshape", [x, ctx.ints([0, args["group"], -1])])
    mean = reduce_node(ctx, "ReduceMean", groups, [2], True)
    centred = ctx.one("Sub", [groups, mean])
    var = reduce_node(ctx, "ReduceMean", ctx.one("Mul", [centred, centred]), [2], True)
    std = ctx.one("Sqrt", [ctx.one("Add", [var, ctx.scalar_like(args["epsilon"], x)])])
    normed = ctx.reshape_like(ctx.one("Div", [centred, std]), x)
    y = ctx.one("Mul", [normed, _per_channel(ctx, op.input[1], rank, "NCHW")])
    y = ctx.one(
        "Add",
        [y, _per_channel(ctx, op.input[2], rank, "NCHW")],
        None if back else op.output[0],
    )
    if back:
        ctx.transpose(y, back, op.output[0])
