"""ONNX reductions (Reduce*, ArgMax, ArgMin) -> Caffe2's Reduce* and Arg* ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._import_context import (
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
    small_constant,
)
from caffe2lite.onnx._import_shape import node_axes

_REDUCE = {"ReduceSum": "ReduceSum", "ReduceMean": "ReduceMean", "ReduceMax": "ReduceMax",
           "ReduceMin": "ReduceMin", "ReduceL1": "ReduceL1", "ReduceL2": "ReduceL2",
           "ReduceSumSquare": "ReduceSum", "ReduceLogSum": "ReduceSum",
           "ReduceLogSumExp": "ReduceSum"}
# With noop_with_empty_axes and no axes, ONNX still applies the element-wise part.
_NOOP = {"ReduceSumSquare": "Sqr", "ReduceL1": "Abs", "ReduceL2": "Abs", "ReduceLogSum": "Log"}


@converter(*_REDUCE)
def _reduce(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, out, kind = node.input[0], node.output[0], node.op_type
    axes = node_axes(ctx, node, attrs, 1)
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            ctx.op(_NOOP.get(kind, "Copy"), [x], [out])
            return
        axes = None
    elif any(a < 0 for a in axes):
        rank = ctx.need_rank(x, "a negative axis")
        axes = [canon_axis(a, rank) for a in axes]
    if axes is None:
        known_rank = ctx.rank(x)
        axes = None if known_rank is None else list(range(known_rank))
    axes = None if axes is None else sorted(axes)
    keep = int(attrs.get("keepdims", 1))
    if kind == "ReduceSumSquare":
        x = ctx.op("Sqr", [x], [ctx.tmp(x + "_squared")])
    if kind == "ReduceLogSumExp":  # log(sum(exp(x - max))) + max, as onnxruntime
        top = ctx.op("ReduceMax", [x], [ctx.tmp(x + "_max")], axes=axes, keepdims=1)
        shifted = ctx.op("Sub", [x, top], [ctx.tmp(x + "_shifted")])
        x = ctx.op("Exp", [shifted], [ctx.tmp(x + "_exp")])
        if not keep:
            top = ctx.op("ReduceMax", [node.input[0]], [ctx.tmp(out + "_max")], axes=axes,
                         keepdims=0)
    if kind in ("ReduceLogSum", "ReduceLogSumExp"):
        total = ctx.op("ReduceSum", [x], [ctx.tmp(out + "_sum")], axes=axes, keepdims=keep)
        if kind == "ReduceLogSum":
            ctx.op("Log", [total], [out])
        else:
            logged = ctx.op("Log", [total], [ctx.tmp(out + "_log")])
            ctx.op("Add", [logged, top], [out])
        return
    ctx.op(_REDUCE[kind], [x], [out], axes=axes, keepdims=keep)


@converter("ArgMax", "ArgMin")
def _arg(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, out = node.input[0], node.output[0]
    axis = int(attrs.get("axis", 0))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(x, "a negative axis"))
    keep = int(attrs.get("keepdims", 1))
    if not attrs.get("select_last_index", 0):
        ctx.op(node.op_type, [x], [out], axis=axis, keepdims=keep)
        return
    # The last extreme: the first one of the reversed axis, counted from the end.
    shape = ctx.shape(x)
    size = None if shape is None else shape[axis]
    if size is None:
        raise Unsupported("select_last_index=1 along a dimension of unknown size")
    small_constant(size, "a reversing index")
    rev = ctx.constant(np.arange(size - 1, -1, -1, dtype=np.int64), x + "_reversed_index")
    flipped = ctx.op("Gather", [x, rev], [ctx.tmp(x + "_reversed")], axis=axis)
    first = ctx.op(node.op_type, [flipped], [ctx.tmp(out + "_reversed")], axis=axis,
                   keepdims=keep)
    last = ctx.constant(np.array(size - 1, np.int64), "last_index")
    ctx.op("Sub", [last, first], [out])
