"""ONNX ops that caffe2lite expresses as a few Caffe2 ops: Pad (Gather / Concat),
DepthToSpace and SpaceToDepth (Reshape-Transpose-Reshape), HardSwish, LpPool."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from caffe2lite.onnx._import_context import (
    _NUMPY_TO_CAFFE2,
    MADE_CONSTANT_LIMIT,
    ONNX_NUMPY,
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
    ints_of,
    small_constant,
)
from caffe2lite.onnx._import_nn import _text, _window

# ONNX Pad mode -> numpy.pad mode of the index vector that Gather reads.
_IndexMode = Literal["edge", "reflect", "wrap"]
_INDEX_MODES: dict[str, _IndexMode] = {"edge": "edge", "reflect": "reflect", "wrap": "wrap"}


@converter("Pad")
def _pad(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """Caffe2's PadImage is not among caffe2lite's operators, so: edge/reflect/wrap
    become one Gather per padded axis (indices numpy.pad'ded the same way); constant
    becomes one Concat per padded axis with constant blocks (needs a static shape)."""
    x = node.input[0]
    mode = _text(attrs.get("mode"), "constant")
    if mode not in _INDEX_MODES and mode != "constant":
        raise Unsupported(f"mode={mode}")
    rank = ctx.need_rank(x, "Pad")
    value, axes = 0.0, None
    if ctx.opset < 11:
        pads = [int(p) for p in attrs.get("pads", attrs.get("paddings", []))]
        value = float(attrs.get("value", 0.0))
    else:
        pads = ints_of(ctx.need_const(node.input[1], "pads"))
        if len(node.input) > 2 and node.input[2]:
            value = ctx.need_const(node.input[2], "constant_value").reshape(-1)[0].item()
        if len(node.input) > 3 and node.input[3]:
            axes = [canon_axis(a, rank) for a in ints_of(ctx.need_const(node.input[3], "axes"))]
    axes = list(range(rank)) if axes is None else axes
    n = len(axes)
    if len(pads) != 2 * n:
        raise Unsupported(f"{len(pads)} pads for {n} axes")
    if any(p < 0 for p in pads):
        raise Unsupported("negative pads (cropping)")
    shape = list(ctx.shape(x) or [None] * rank)
    dtype = ONNX_NUMPY.get(ctx.elem_type(x) or 0)
    cur = x
    work = [(ax, pads[i], pads[n + i]) for i, ax in enumerate(axes) if pads[i] or pads[n + i]]
    if not work:
        ctx.op("Copy", [x], [node.output[0]])
        return
    for k, (ax, before, after) in enumerate(work):
        out = node.output[0] if k == len(work) - 1 else ctx.tmp(node.output[0] + "_padded")
        if mode in _INDEX_MODES:
            if shape[ax] is None:
                raise Unsupported(f"mode={mode} along a dimension of unknown size")
            if mode == "reflect" and max(before, after) >= shape[ax]:
                raise Unsupported("reflect pads as large as the dimension")
            small_constant(shape[ax] + before + after, f"a mode={mode} index")
            index = np.pad(np.arange(shape[ax], dtype=np.int64), (before, after),
                           mode=_INDEX_MODES[mode])
            cur = ctx.op("Gather", [cur, ctx.constant(index, "pad_index")], [out], axis=ax)
        else:
            if dtype is None:
                raise Unsupported("mode=constant on an input of unknown type")
            parts = []
            for size in (before, None, after):
                if size is None:
                    parts.append(cur)
                elif size and all(d is not None for d in shape) and (
                        int(np.prod(shape, dtype=np.int64)) // max(shape[ax], 1) * size
                        <= MADE_CONSTANT_LIMIT):
                    block = list(shape)
                    block[ax] = size
                    parts.append(ctx.constant(np.full(block, value, dtype), "pad_block"))
                elif size:  # a block shaped like the input at run time
                    parts.append(_block_like(ctx, cur, rank, ax, size, value, dtype))
            cur = ctx.op("Concat", parts, [out], axis=ax)
        shape[ax] = None if shape[ax] is None else shape[ax] + before + after


def _block_like(ctx: ImportContext, x: str, rank: int, axis: int, size: int, value: Any,
                dtype: Any) -> str:
    """ConstantFill of ``value`` shaped like ``x`` but ``size`` long along ``axis``."""
    shape = ctx.op("Shape", [x], [ctx.tmp(x + "_shape")])
    pieces = []
    if axis > 0:
        pieces.append(ctx.op("Slice", [shape], [ctx.tmp(x + "_dims_before")],
                             starts=[0], ends=[axis]))
    pieces.append(ctx.constant(np.array([size], np.int64), "pad_size"))
    if axis < rank - 1:
        pieces.append(ctx.op("Slice", [shape], [ctx.tmp(x + "_dims_after")],
                             starts=[axis + 1], ends=[-1]))
    dims = ctx.op("Concat", pieces, [ctx.tmp(x + "_block_shape")], axis=0)
    kind = np.dtype(dtype)
    fill = float(value) if kind.kind == "f" else int(value)
    return ctx.op("ConstantFill", [dims], [ctx.tmp("pad_block")], input_as_shape=1,
                  value=fill, dtype=_NUMPY_TO_CAFFE2[kind])


def _static_nchw(ctx: ImportContext, x: str, what: str) -> tuple[int, int, int]:
    shape = ctx.shape(x)
    if shape is None or len(shape) != 4 or any(d is None for d in shape[1:]):
        raise Unsupported(f"{what} needs a 4-D input with known C, H, W")
    return shape[1], shape[2], shape[3]


def _reshape(ctx: ImportContext, x: str, dims: list[int], out: str) -> str:
    return ctx.op("Reshape", [x], [out, ctx.tmp(out + "_old_shape")], shape=dims)


@converter("DepthToSpace")
def _depth_to_space(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    b = int(attrs["blocksize"])
    c, h, w = _static_nchw(ctx, node.input[0], "DepthToSpace")
    out = node.output[0]
    if _text(attrs.get("mode"), "DCR") == "DCR":
        dims, perm = [0, b, b, c // (b * b), h, w], [0, 3, 4, 1, 5, 2]
    else:
        dims, perm = [0, c // (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3]
    t = _reshape(ctx, node.input[0], dims, ctx.tmp(out + "_blocks"))
    t = ctx.op("Transpose", [t], [ctx.tmp(out + "_moved")], axes=perm)
    _reshape(ctx, t, [0, c // (b * b), h * b, w * b], out)


@converter("SpaceToDepth")
def _space_to_depth(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    b = int(attrs["blocksize"])
    c, h, w = _static_nchw(ctx, node.input[0], "SpaceToDepth")
    out = node.output[0]
    crd = _text(attrs.get("mode"), "DCR") == "CRD"  # the mode attribute came in opset 28
    t = _reshape(ctx, node.input[0], [0, c, h // b, b, w // b, b], ctx.tmp(out + "_blocks"))
    t = ctx.op("Transpose", [t], [ctx.tmp(out + "_moved")],
               axes=[0, 1, 3, 5, 2, 4] if crd else [0, 3, 5, 1, 2, 4])
    _reshape(ctx, t, [0, c * b * b, h // b, w // b], out)


@converter("HardSwish")
def _hard_swish(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, out = node.input[0], node.output[0]
    gate = ctx.op("HardSigmoid", [x], [ctx.tmp(out + "_gate")], alpha=1.0 / 6, beta=0.5)
    ctx.op("Mul", [x, gate], [out])


def _need_4d(ctx: ImportContext, x: str, caffe2_op: str) -> None:
    rank = ctx.rank(x)
    if rank is not None and rank != 4:
        raise Unsupported(f"a {rank}-D input (caffe2lite's {caffe2_op} is 2-D only)")


@converter("LpPool")
def _lp_pool(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    _need_4d(ctx, node.input[0], "LpPool")
    if attrs.get("ceil_mode", 0):
        raise Unsupported("ceil_mode=1")
    args = _window(ctx, node, attrs, list(attrs["kernel_shape"]))
    if any(d != 1 for d in args.pop("dilations")):
        raise Unsupported("dilations other than 1")
    ctx.op("LpPool", [node.input[0]], [node.output[0]], p=float(attrs.get("p", 2)), **args)


@converter("GlobalLpPool")
def _global_lp_pool(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    _need_4d(ctx, node.input[0], "LpPool")
    ctx.op("LpPool", [node.input[0]], [node.output[0]], p=float(attrs.get("p", 2)),
           global_pooling=1)


@converter("Hardmax")
def _hardmax(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """1 where ArgMax (the first maximum) is, 0 elsewhere: EQ of a constant index
    along the axis with ArgMax kept as a dimension. Before opset 13 the input is
    coerced to 2-D at ``axis`` first, as for Softmax."""
    x, out = node.input[0], node.output[0]
    shape, dtype = ctx.shape(x), ONNX_NUMPY.get(ctx.elem_type(x) or 0)
    if shape is None or dtype is None:
        raise Unsupported("an input of unknown rank or type")
    rank = len(shape)
    axis = canon_axis(int(attrs.get("axis", -1 if ctx.opset >= 13 else 1)), rank)
    source, dims = x, list(shape)
    if ctx.opset < 13:  # [prod(shape[:axis]), prod(shape[axis:])], then back
        if any(d is None for d in shape[axis:]):
            raise Unsupported("coercing to 2-D needs the sizes from axis on")
        source = ctx.op("Flatten", [x], [ctx.tmp(out + "_2d")], axis=axis)
        dims, axis = [None, int(np.prod(shape[axis:], dtype=np.int64))], 1
    size = dims[axis]
    if size is None:
        raise Unsupported("a dimension of unknown size along the axis")
    small_constant(size, "a Hardmax index")
    index_shape = [1] * len(dims)
    index_shape[axis] = size
    index = ctx.constant(np.arange(size, dtype=np.int64).reshape(index_shape), "hardmax_index")
    top = ctx.op("ArgMax", [source], [ctx.tmp(out + "_argmax")], axis=axis, keepdims=1)
    hit = ctx.op("EQ", [index, top], [ctx.tmp(out + "_hit")])
    onehot = out if ctx.opset >= 13 else ctx.tmp(out + "_onehot")
    ctx.op("Cast", [hit], [onehot], to=_NUMPY_TO_CAFFE2[np.dtype(dtype)])
    if ctx.opset < 13:
        original = ctx.op("Shape", [x], [ctx.tmp(out + "_shape")])
        ctx.op("Reshape", [onehot, original], [out, ctx.tmp(out + "_old_shape")])


@converter("LpNormalization")
def _lp_normalization(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """X / ||X||_p along ``axis`` (p = 1 or 2): ReduceL1 / ReduceL2 kept, then Div."""
    x, out = node.input[0], node.output[0]
    p = int(attrs.get("p", 2))
    if p not in (1, 2):
        raise Unsupported(f"p={p}")
    axis = int(attrs.get("axis", -1))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(x, "a negative axis"))
    norm = ctx.op("ReduceL1" if p == 1 else "ReduceL2", [x], [ctx.tmp(out + "_norm")],
                  axes=[axis], keepdims=1)
    # a zero norm means a zero row: divide it by 1 (0 out, as ONNX's reference)
    dtype = np.dtype(ONNX_NUMPY.get(ctx.elem_type(x) or 1, np.float32))
    zero = ctx.op("EQ", [norm, ctx.constant(np.zeros((), dtype), "zero")],
                  [ctx.tmp(out + "_zero_norm")])
    ones = ctx.op("Cast", [zero], [ctx.tmp(out + "_zero_norm")], to=_NUMPY_TO_CAFFE2[dtype])
    norm = ctx.op("Add", [norm, ones], [ctx.tmp(out + "_safe_norm")])
    ctx.op("Div", [x, norm], [out])


@converter("MeanVarianceNormalization")
def _mean_variance_normalization(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """(X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9) over ``axes``, as ONNX defines it."""
    x, out = node.input[0], node.output[0]
    axes = [int(a) for a in attrs.get("axes", [0, 2, 3])]
    if any(a < 0 for a in axes):
        rank = ctx.need_rank(x, "a negative axis")
        axes = [canon_axis(a, rank) for a in axes]
    axes = sorted(axes)
    mean = ctx.op("ReduceMean", [x], [ctx.tmp(out + "_mean")], axes=axes, keepdims=1)
    square = ctx.op("Sqr", [x], [ctx.tmp(out + "_square")])
    mean_square = ctx.op("ReduceMean", [square], [ctx.tmp(out + "_mean_square")], axes=axes,
                         keepdims=1)
    square_mean = ctx.op("Sqr", [mean], [ctx.tmp(out + "_square_mean")])
    variance = ctx.op("Sub", [mean_square, square_mean], [ctx.tmp(out + "_variance")])
    std = ctx.op("Sqrt", [variance], [ctx.tmp(out + "_std")])
    eps = ctx.constant(np.array(1e-9, ONNX_NUMPY.get(ctx.elem_type(x) or 1, np.float32)),
                       "epsilon")
    std = ctx.op("Add", [std, eps], [ctx.tmp(out + "_std_eps")])
    centred = ctx.op("Sub", [x, mean], [ctx.tmp(out + "_centred")])
    ctx.op("Div", [centred, std], [out])

