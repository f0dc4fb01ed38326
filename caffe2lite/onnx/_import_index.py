"""ONNX Slice, TopK, Range and Trilu -> caffe2lite operators."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._import_context import (
    MADE_CONSTANT_LIMIT,
    ONNX_NUMPY,
    ONNX_TO_CAFFE2,
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
    ints_of,
    small_constant,
)
from caffe2lite.onnx._import_shape import node_axes

_BIG = 2**31 - 1


@converter("Slice")
def _slice(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x = node.input[0]
    if ctx.opset < 10:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = attrs.get("axes")
        steps = None
    else:
        starts = ints_of(ctx.need_const(node.input[1], "starts"))
        ends = ints_of(ctx.need_const(node.input[2], "ends"))
        axes = node_axes(ctx, node, {}, 3)
        steps = (ints_of(ctx.need_const(node.input[4], "steps"))
                 if len(node.input) > 4 and node.input[4] else None)
    rank = ctx.need_rank(x, "Slice")
    axes = list(range(len(starts))) if axes is None else [canon_axis(a, rank) for a in axes]
    steps = [1] * len(axes) if steps is None else steps
    shape = ctx.shape(x)
    assert shape is not None  # need_rank above: the rank is known
    strided = [(ax, s, e, st) for ax, s, e, st in zip(axes, starts, ends, steps) if st != 1]
    c2_starts, c2_ends = [0] * rank, [-1] * rank
    for ax, s, e, st in zip(axes, starts, ends, steps):
        if st != 1:
            continue
        dim = shape[ax]
        if dim is not None:  # exact, clamped as ONNX clamps
            s = min(max(s + dim if s < 0 else s, 0), dim)
            e = min(max(e + dim if e < 0 else e, 0), dim)
            c2_starts[ax], c2_ends[ax] = s, max(e, s)
        else:  # Caffe2 counts a negative index from one past the end
            c2_starts[ax] = s if s >= 0 else s - 1
            c2_ends[ax] = -1 if e >= _BIG else (e if e >= 0 else e - 1)
            if s < 0 and s - 1 < -_BIG:
                raise Unsupported("a start before the beginning of an unknown dimension")
    # Caffe2's Slice cuts one dimension per op: one Slice per sliced axis; an axis
    # with a step other than 1 is a Gather of the indices it keeps.
    cuts = [ax for ax in range(rank) if (c2_starts[ax], c2_ends[ax]) != (0, -1)]
    gathers = [(ax, _strided_indices(shape[ax], s, e, st)) for ax, s, e, st in strided]
    last = len(cuts) + len(gathers) - 1
    if last < 0:
        ctx.op("Copy", [x], [node.output[0]])
    for k, ax in enumerate(cuts):
        starts_k, ends_k = [0] * rank, [-1] * rank
        starts_k[ax], ends_k[ax] = c2_starts[ax], c2_ends[ax]
        out = node.output[0] if k == last else ctx.tmp(node.output[0] + "_slice")
        x = ctx.op("Slice", [x], [out], starts=starts_k, ends=ends_k)
    for k, (ax, index) in enumerate(gathers, start=len(cuts)):
        out = node.output[0] if k == last else ctx.tmp(node.output[0] + "_slice")
        x = ctx.op("Gather", [x, ctx.constant(index, "slice_index")], [out], axis=ax)


def _strided_indices(dim: int | None, start: int, end: int, step: int) -> np.ndarray:
    """The indices ONNX's Slice keeps along one axis with a step other than 1."""
    if dim is None:
        raise Unsupported("a step other than 1 along a dimension of unknown size")
    if step == 0:
        raise Unsupported("step 0")
    start, end = start + dim if start < 0 else start, end + dim if end < 0 else end
    if step > 0:
        start, end = min(max(start, 0), dim), min(max(end, 0), dim)
    else:
        start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    small_constant(len(range(start, end, step)), "a strided Slice index")
    return np.arange(start, end, step, dtype=np.int64)


@converter("Range")
def _range(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    elem = ctx.elem_type(node.input[0])
    delta = ctx.const(node.input[2])
    if elem not in (6, 7) or (delta is not None and delta.reshape(-1)[0] > 0):
        ctx.op("Range", list(node.input[:3]), [node.output[0]])
        return
    # Caffe2 counted an integer range as trunc(diff / step) (+1 when short), which
    # is one short for negative steps; ONNX wants ceil(diff / step): count in double.
    as_double = [ctx.op("Cast", [n], [ctx.tmp(n + "_double")], to=ONNX_TO_CAFFE2[11])
                 for n in node.input[:3]]
    values = ctx.op("Range", as_double, [ctx.tmp(node.output[0] + "_double")])
    ctx.op("Cast", [values], [node.output[0]], to=ONNX_TO_CAFFE2[elem])


@converter("TopK")
def _top_k(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    if "k" in attrs:  # opset < 10
        k = int(attrs["k"])
    else:
        k = int(ctx.need_const(node.input[1], "K").reshape(-1)[0])
    axis = int(attrs.get("axis", -1))
    if axis < -1:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    # Caffe2's TopK is sorted, ties broken by the lower index, as ONNX asks.
    if attrs.get("largest", 1):
        ctx.op("TopK", [node.input[0]], list(node.output[:2]), k=k, axis=axis)
        return
    values, indices = node.output[0], node.output[1] if len(node.output) > 1 else ""
    neg = ctx.op("Negative", [node.input[0]], [ctx.tmp(values + "_negated")])
    top = ctx.op("TopK", [neg], [ctx.tmp(values + "_top"), indices or ctx.tmp("indices")],
                 k=k, axis=axis)
    ctx.op("Negative", [top], [values])


@converter("Trilu")
def _trilu(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """Where(mask, X, 0) with the triangle mask of the last two (static) dimensions."""
    from caffe2lite.onnx._import_ops import broadcast_all

    x = node.input[0]
    shape, dtype = ctx.shape(x), ONNX_NUMPY.get(ctx.elem_type(x) or 0)
    if shape is None or len(shape) < 2 or dtype is None:
        raise Unsupported("an input of unknown rank or type")
    if 0 in shape:  # nothing to mask (and Caffe2's Expand refuses empty inputs)
        ctx.op("Copy", [x], [node.output[0]])
        return
    k, k_blob = 0, ""
    if len(node.input) > 1 and node.input[1]:
        value = ctx.const(node.input[1])
        if value is None:
            k_blob = node.input[1]  # computed: compared at run time
        else:
            k = int(value.reshape(-1)[0])
    upper = bool(attrs.get("upper", 1))
    if (None not in shape[-2:] and not k_blob
            and shape[-2] * shape[-1] <= MADE_CONSTANT_LIMIT):
        ones = np.ones(shape[-2:], dtype=bool)
        mask = ctx.constant(np.triu(ones, k) if upper else np.tril(ones, k), x + "_triangle")
    else:  # column - row >= k (upper) or <= k (lower), from the sizes at run time
        rank = len(shape)
        index = []
        for axis, dims in ((rank - 2, [1]), (rank - 1, [0])):
            size = ctx.op("Shape", [x], [ctx.tmp(x + "_size")], axes=[axis])
            size = ctx.op("Squeeze", [size], [ctx.tmp(x + "_size")], dims=[0])
            seq = ctx.op("Range", [size], [ctx.tmp(x + "_index")])
            index.append(ctx.op("ExpandDims", [seq], [ctx.tmp(x + "_index")], dims=dims))
        diagonal = ctx.op("Sub", [index[1], index[0]], [ctx.tmp(x + "_diagonal")])
        mask = ctx.op("GE" if upper else "LE",
                      [diagonal, k_blob or ctx.constant(np.array(k, np.int64), "k")],
                      [ctx.tmp(x + "_triangle")])
        ctx.value_types[mask] = (None, 9)  # bool: broadcast_all must know
    parts = [mask, x, ctx.constant(np.zeros((), dtype), x + "_zero")]
    ctx.op("Where", broadcast_all(ctx, parts), [node.output[0]])


@converter("GatherElements")
def _gather_elements(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """A Gather from the flattened data: flat index = index * stride(axis) + the
    other coordinates' offsets (a constant of the indices' shape); negative indices
    count from the end. Needs the static shapes of both inputs."""
    data, indices, out = node.input[0], node.input[1], node.output[0]
    dshape, ishape = ctx.static_shape(data), ctx.static_shape(indices)
    if dshape is None or ishape is None or len(dshape) != len(ishape):
        raise Unsupported("inputs of unknown shape")
    axis = canon_axis(int(attrs.get("axis", 0)), len(dshape))
    small_constant(int(np.prod(ishape, dtype=np.int64)), "a GatherElements offset")
    strides = np.cumprod((list(dshape[1:]) + [1])[::-1])[::-1].astype(np.int64)
    grids = np.indices(ishape, dtype=np.int64)
    offsets = sum(grids[d] * strides[d] for d in range(len(dshape)) if d != axis)
    index = ctx.op("Cast", [indices], [ctx.tmp(out + "_index")], to=ONNX_TO_CAFFE2[7])
    negative = ctx.op("LT", [index, ctx.constant(np.array(0, np.int64), "zero")],
                      [ctx.tmp(out + "_negative")])
    negative = ctx.op("Cast", [negative], [ctx.tmp(out + "_negative")], to=ONNX_TO_CAFFE2[7])
    wrap = ctx.op("Mul", [negative, ctx.constant(np.array(dshape[axis], np.int64), "size")],
                  [ctx.tmp(out + "_wrap")])
    index = ctx.op("Add", [index, wrap], [ctx.tmp(out + "_index")])
    index = ctx.op("Mul", [index, ctx.constant(np.array(strides[axis], np.int64), "stride")],
                   [ctx.tmp(out + "_index")])
    flat_index = ctx.op("Add", [index, ctx.constant(np.asarray(offsets, np.int64), "offsets")],
                        [ctx.tmp(out + "_flat_index")])
    flat = ctx.op("Reshape", [data], [ctx.tmp(data + "_flat"), ctx.tmp(data + "_old_shape")],
                  shape=[-1])
    ctx.op("Gather", [flat, flat_index], [out])


@converter("OneHot")
def _one_hot(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    """Where(EQ(indices with a new axis, arange(depth) along it), on, off); negative
    indices count from depth."""
    from caffe2lite.onnx._import_ops import broadcast_all

    indices, out = node.input[0], node.output[0]
    depth = ctx.need_const(node.input[1], "depth").reshape(-1)[0]
    values = ctx.need_const(node.input[2], "values").reshape(-1)
    depth = int(depth)
    if depth < 0 or values.size != 2:
        raise Unsupported("a negative depth or values that are not [off, on]")
    small_constant(depth, "a OneHot position index")
    rank = ctx.need_rank(indices, "OneHot") + 1
    axis = canon_axis(int(attrs.get("axis", -1)), rank)
    index = ctx.op("Cast", [indices], [ctx.tmp(out + "_index")], to=ONNX_TO_CAFFE2[7])
    negative = ctx.op("LT", [index, ctx.constant(np.array(0, np.int64), "zero")],
                      [ctx.tmp(out + "_negative")])
    negative = ctx.op("Cast", [negative], [ctx.tmp(out + "_negative")], to=ONNX_TO_CAFFE2[7])
    wrap = ctx.op("Mul", [negative, ctx.constant(np.array(depth, np.int64), "depth")],
                  [ctx.tmp(out + "_wrap")])
    index = ctx.op("Add", [index, wrap], [ctx.tmp(out + "_index")])
    index = ctx.op("ExpandDims", [index], [ctx.tmp(out + "_index")], dims=[axis])
    where = [1] * rank
    where[axis] = depth
    positions = ctx.constant(np.arange(depth, dtype=np.int64).reshape(where), "positions")
    hit = ctx.op("EQ", [index, positions], [ctx.tmp(out + "_hit")])
    ctx.value_types[hit] = (None, 9)  # bool: broadcast_all must know
    off, on = (ctx.constant(np.array(v, values.dtype), f"{out}_value") for v in values)
    ctx.op("Where", broadcast_all(ctx, [hit, on, off]), [out])

