"""ONNX converters of Caffe2's layers: convolution, pooling, FC, normalisation,
Softmax, PRelu, channel shuffle, resizing (one small function per family;
:mod:`._export_norm` has the normalisations)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter

CONVS = ("Conv", "Conv1D", "Conv2D", "Conv3D", "ConvRelu")


POOLS = (
    "MaxPool",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "AveragePool",
    "AveragePool1D",
    "AveragePool2D",
    "AveragePool3D",
)


def _window(
    ctx: OpContext,
    x: str,
    args: dict,
    kernel_from: tuple[int, ...] | None,
    pooling: bool,
) -> dict[str, Any]:
    """kernel_shape, strides, dilations and pads of a Caffe2 conv/pool op, resolved as
    Caffe2 resolves them (legacy padding needs X's static spatial size)."""
    from caffe2lite.ops.vision import _convpool as cp

    order = args.get("order", "NCHW")
    dims = ctx.shape(x).dims
    static = dims is not None and all(isinstance(d, int) for d in dims)
    legacy = args.get("legacy_pad", 0)
    if static:
        try:
            geo = cp.geometry(
                cp.spatial_of(dims, order),
                args,
                kernel_from=kernel_from,
                pooling=pooling,
            )
        except Caffe2LiteError as e:
            raise Unsupported(e.detail()) from None
        return {
            "kernel_shape": list(geo.kernel),
            "strides": list(geo.stride),
            "dilations": list(geo.dilation),
            "pads": list(geo.pad_head) + list(geo.pad_tail),
        }
    if legacy == cp.CAFFE_LEGACY_POOLING:
        raise Unsupported(f"legacy_pad=3 needs the static shape of '{x}'")
    p = cp.parse(args)
    kernel = p["kernel"] or (list(kernel_from) if kernel_from else None)
    if kernel is None:
        raise Unsupported("no kernel size")
    n = len(kernel)
    out = {
        "kernel_shape": kernel,
        "strides": p["stride"] or [1] * n,
        "dilations": p["dilation"] or [1] * n,
    }
    if legacy == cp.SAME:
        out["auto_pad"] = "SAME_UPPER"
    elif legacy == cp.VALID:
        out["auto_pad"] = "VALID"
    else:
        out["pads"] = p["pads"] or [0] * (2 * n)
    return out


def _to_nchw(ctx: OpContext, x: str, order: str) -> tuple[str, list[int] | None]:
    """X as channels first, and the perm that takes the result back (or None)."""
    if order != "NHWC":
        return x, None
    first, last = ctx.channels_last(x)
    return ctx.transpose(x, first), last


def _filter_nchw(
    ctx: OpContext, w: str, order: str
) -> tuple[str, tuple[int, ...] | None]:
    """The filter as (M, C, *kernel) and its kernel size (when known)."""
    dims = ctx.shape(w).dims
    if order == "NHWC":
        first, _ = ctx.channels_last(w)
        value = ctx.value(w)
        w = (
            ctx.const(value.transpose(first), hint="filter")
            if value is not None
            else ctx.transpose(w, first)
        )
        dims = None if dims is None else tuple(dims[i] for i in first)
    kernel = (
        tuple(int(d) for d in dims[2:])
        if dims is not None and all(isinstance(d, int) for d in dims)
        else None
    )
    return w, kernel


@converter(*CONVS)
def conv(ctx: OpContext, op: Any, args: dict) -> None:
    order = args["order"]
    x, back = _to_nchw(ctx, op.input[0], order)
    w, kernel = _filter_nchw(ctx, op.input[1], order)
    attrs = _window(ctx, op.input[0], args, kernel, pooling=False)
    relu = op.type == "ConvRelu"
    y = None if back or relu else op.output[0]
    y = ctx.one("Conv", [x, w] + list(op.input[2:]), y, group=args["group"], **attrs)
    if relu:
        y = ctx.one("Relu", [y], None if back else op.output[0])
    if back:
        ctx.transpose(y, back, op.output[0])


@converter("ConvTranspose")
def conv_transpose(ctx: OpContext, op: Any, args: dict) -> None:
    from caffe2lite.ops.vision import _convpool as cp

    order = args["order"]
    if args["legacy_pad"] not in (0,):
        raise Unsupported("legacy padding")
    x, back = _to_nchw(ctx, op.input[0], order)
    w, filter_kernel = _filter_nchw(ctx, op.input[1], order)
    kw = dict(
        args,
        dilation=None,
        dilations=None,
        dilation_h=None,
        dilation_w=None,
        global_pooling=False,
    )
    p = cp.parse(kw)
    kernel = p["kernel"] or (list(filter_kernel) if filter_kernel else None)
    if kernel is None:
        raise Unsupported("no kernel size")
    n = len(kernel)
    adj = args["adjs"] or (
        [args["adj_h"], args["adj_w"]]
        if args["adj_h"] is not None
        else [args["adj"]] * n
        if args["adj"] is not None
        else None
    )
    y = ctx.one(
        "ConvTranspose",
        [x, w] + list(op.input[2:]),
        None if back else op.output[0],
        kernel_shape=list(kernel),
        strides=p["stride"] or [1] * n,
        pads=p["pads"] or [0] * (2 * n),
        output_padding=list(adj) if adj else None,
        group=args["group"],
    )
    if back:
        ctx.transpose(y, back, op.output[0])


@converter(*POOLS, "LpPool")
def pool(ctx: OpContext, op: Any, args: dict) -> None:
    kind = {"M": "MaxPool", "A": "AveragePool", "L": "LpPool"}[op.type[0]]
    extra = {}
    if kind == "LpPool":
        if args["p"] != int(args["p"]):
            raise Unsupported(f"a p that is not an integer ({args['p']})")
        extra = {"p": int(args["p"])}
    x, back = _to_nchw(ctx, op.input[0], args["order"])
    out = None if back else op.output[0]
    if args["global_pooling"]:
        y = ctx.one("Global" + kind, [x], out, **extra)
    else:
        attrs = _window(ctx, op.input[0], args, None, pooling=True)
        if kind == "LpPool" and ctx.opset < 18:
            attrs.pop("dilations")
        if kind == "AveragePool":
            if any(d != 1 for d in attrs.pop("dilations")):
                raise Unsupported("dilated average pooling")
            attrs["count_include_pad"] = int(args.get("count_include_pad", False))
        y = ctx.one(kind, [x], out, **attrs, **extra)
    if back:
        ctx.transpose(y, back, op.output[0])


@converter("FC", "FCTransposed", "FbFCPacked")
def fc(ctx: OpContext, op: Any, args: dict) -> None:
    """Y = X (read as 2-D at axis) times W (2-D at axis_w), transposed for FC, plus b;
    Y's shape is X's dims before axis, then N. FbFCPacked is FC with W rounded to
    float16."""
    x, w, b = op.input
    axis, axis_w = args["axis"], args["axis_w"]
    rank = ctx.rank(x)
    axis = axis + rank if axis < 0 else axis
    flat_x = x if rank == 2 and axis == 1 else ctx.one("Flatten", [x], axis=axis)
    value = ctx.value(w)
    if op.type == "FbFCPacked":
        if value is not None:
            value = value.astype(np.float16).astype(ctx.dtype(x))
        else:
            w = ctx.one("Cast", [ctx.one("Cast", [w], to=10)], to=1)
    if (
        value is not None
        and value.ndim == 2
        and axis_w == 1
        and op.type != "FbFCPacked"
    ):
        w2 = w
    elif value is not None:
        k = int(np.prod(value.shape[:axis_w]))
        w2 = ctx.const(value.reshape(k, -1), hint="w")
    elif ctx.rank(op.input[1]) == 2 and axis_w == 1:
        w2 = w
    else:
        w2 = ctx.one("Flatten", [w], axis=axis_w)
    trans_b = int(op.type != "FCTransposed")
    if axis == 1:  # Y is (M, N) already
        ctx.one("Gemm", [flat_x, w2, b], op.output[0], transB=trans_b)
        return
    y = ctx.one("Gemm", [flat_x, w2, b], transB=trans_b)
    target = ctx.one(
        "Concat", [ctx.shape_part(x, 0, axis), ctx.shape_part(y, 1, 2)], axis=0
    )
    ctx.one("Reshape", [y, target], op.output[0])


@converter("Softmax")
def softmax(ctx: OpContext, op: Any, args: dict) -> None:
    """Caffe2's Softmax normalises X read as 2-D at ``axis``: the same as ONNX's over
    the last axis when axis is the last; otherwise Flatten, Softmax, Reshape."""
    x = op.input[0]
    rank = ctx.rank(x)
    axis = args["axis"] + rank if args["axis"] < 0 else args["axis"]
    if axis == rank - 1:
        ctx.one("Softmax", [x], op.output[0], axis=-1)
        return
    y = ctx.one("Softmax", [ctx.one("Flatten", [x], axis=axis)], axis=-1)
    ctx.reshape_like(y, x, op.output[0])


@converter("PRelu")
def prelu(ctx: OpContext, op: Any, args: dict) -> None:
    x, slope = op.input
    rank = ctx.rank(x)
    if args["order"] == "NCHW" and rank > 2:
        value = ctx.value(slope)
        shape = [-1] + [1] * (rank - 2)
        slope = (
            ctx.const(value.reshape(shape), hint="slope")
            if value is not None
            else ctx.one("Reshape", [slope, ctx.ints(shape)])
        )
    ctx.one("PRelu", [x, slope], op.output[0])


@converter("ChannelShuffle")
def channel_shuffle(ctx: OpContext, op: Any, args: dict) -> None:
    x, back = _to_nchw(ctx, op.input[0], args["order"])
    g = args["group"]
    c = ctx.dims(op.input[0])[1 if args["order"] == "NCHW" else -1]
    split = ctx.one("Reshape", [x, ctx.ints([0, g, c // g, -1])])
    swapped = ctx.transpose(split, [0, 2, 1, 3])
    y = ctx.one(
        "Reshape", [swapped, ctx.one("Shape", [x])], None if back else op.output[0]
    )
    if back:
        ctx.transpose(y, back, op.output[0])
