"""ONNX converters of Caffe2's value transforms: Clip, ReluN, Cast and the float16
casts, Mod, ReplaceNaN, Bucketize and BatchBoxCox (one small function per op)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter


@converter("Clip")
def clip(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    lo, hi = args["min"], args["max"]
    if ctx.dtype(x).kind != "f":
        info = np.iinfo(ctx.dtype(x))
        lo, hi = max(lo, info.min), min(hi, info.max)
    ctx.one("Clip", [x, ctx.scalar_like(lo, x), ctx.scalar_like(hi, x)], op.output[0])


@converter("Cast")
def cast(ctx: OpContext, op: Any, args: dict) -> None:
    import onnx

    from caffe2lite.ops.shape.cast import cast_data_type, target_dtype

    try:
        dtype = target_dtype(cast_data_type(args["to"]))
    except Caffe2LiteError as e:  # Caffe2's refusals (BYTE, FLOAT16 ...)
        raise Unsupported(str(e)) from None
    if dtype.kind == "O":
        raise Unsupported("Cast to STRING")
    ctx.one(
        "Cast",
        [op.input[0]],
        op.output[0],
        to=onnx.helper.np_dtype_to_tensor_dtype(dtype),
    )


@converter("Mod")
def mod(ctx: OpContext, op: Any, args: dict) -> None:
    """Caffe2's Mod: the C remainder (sign of X), or the sign of the divisor."""
    x = op.input[0]
    ctx.one(
        "Mod",
        [x, ctx.scalar_like(args["divisor"], x)],
        op.output[0],
        fmod=0 if args["sign_follow_divisor"] else 1,
    )


@converter("ReplaceNaN")
def replace_nan(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    ctx.one(
        "Where",
        [ctx.one("IsNaN", [x]), ctx.scalar_like(args["value"], x), x],
        op.output[0],
    )


@converter("HalfToFloat", "FloatToHalf")
def half(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    if op.type == "HalfToFloat":
        ctx.one("Cast", [x], op.output[0], to=1)  # FLOAT
        return
    if args["clip"]:
        limit = float(np.finfo(np.float16).max)
        x = ctx.one("Clip", [x, ctx.scalar_like(-limit, x), ctx.scalar_like(limit, x)])
    ctx.one("Cast", [x], op.output[0], to=10)  # FLOAT16


@converter("ReluN")
def relu_n(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    ctx.one(
        "Clip",
        [x, ctx.scalar_like(0.0, x), ctx.scalar_like(args["n"], x)],
        op.output[0],
    )


@converter("Bucketize")
def bucketize(ctx: OpContext, op: Any, args: dict) -> None:
    """The number of boundaries below each element (NaN compares false: 0)."""
    x = op.input[0]
    edges = ctx.const(np.asarray(args["boundaries"], np.float32), hint="boundaries")
    below = ctx.one("Less", [edges, ctx.unsqueeze(x, [ctx.rank(x)])])
    count = ctx.one(
        "ReduceSum", [ctx.one("Cast", [below], to=6), ctx.ints([-1])], keepdims=0
    )
    ctx.one("Identity", [count], op.output[0])


@converter("BatchBoxCox")
def batch_box_cox(ctx: OpContext, op: Any, args: dict) -> None:
    """Per column j, with t = max(x + lambda2[j], 1e-6): ln(t) where lambda1[j] is 0,
    else (t^lambda1[j] - 1) / lambda1[j]."""
    x, l1, l2 = op.input
    rows = ctx.one("Flatten", [x], axis=1) if ctx.rank(x) != 2 else x
    t = ctx.one("Max", [ctx.one("Add", [rows, l2]), ctx.scalar_like(1e-6, x)])
    zero = ctx.one("Equal", [l1, ctx.scalar_like(0.0, x)])
    safe = ctx.one("Where", [zero, ctx.scalar_like(1.0, x), l1])
    power = ctx.one(
        "Div",
        [ctx.one("Sub", [ctx.one("Pow", [t, safe]), ctx.scalar_like(1.0, x)]), safe],
    )
    y = ctx.one("Where", [zero, ctx.one("Log", [t]), power])
    ctx.reshape_like(y, x, op.output[0])
