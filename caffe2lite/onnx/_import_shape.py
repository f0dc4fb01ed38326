"""ONNX shape, indexing, reduction and constant ops -> caffe2lite operators."""

from __future__ import annotations

import numpy as np

from caffe2lite.onnx._import_context import (
    MADE_CONSTANT_LIMIT,
    ONNX_NUMPY,
    ONNX_TO_CAFFE2,
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
    fill_ops,
    ints_of,
    small_constant,
)


def _axes(ctx: ImportContext, node, attrs, input_index: int) -> list[int] | None:
    """The ``axes`` of a node: its attribute (older opsets) or its constant input."""
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(node.input) > input_index and node.input[input_index]:
        return ints_of(ctx.need_const(node.input[input_index], "axes"))
    return None


@converter("Constant")
def _constant(ctx: ImportContext, node, attrs) -> None:
    import onnx.numpy_helper

    if "value" in attrs:
        value = onnx.numpy_helper.to_array(attrs["value"])
    elif "value_float" in attrs:
        value = np.array(attrs["value_float"], np.float32)
    elif "value_floats" in attrs:
        value = np.array(attrs["value_floats"], np.float32)
    elif "value_int" in attrs:
        value = np.array(attrs["value_int"], np.int64)
    elif "value_ints" in attrs:
        value = np.array(attrs["value_ints"], np.int64)
    else:
        raise Unsupported("a sparse or string value")
    for op in fill_ops(node.output[0], value, ctx.tmp):
        op.name = ctx.node_name
        ctx.ops.append(op)
    ctx.consts[node.output[0]] = value


@converter("ConstantOfShape")
def _constant_of_shape(ctx: ImportContext, node, attrs) -> None:
    import onnx.numpy_helper

    value = (onnx.numpy_helper.to_array(attrs["value"]) if "value" in attrs
             else np.zeros(1, np.float32))
    elem = {np.dtype(np.float32): 1, np.dtype(np.int64): 7, np.dtype(np.int32): 6,
            np.dtype(np.bool_): 9, np.dtype(np.float64): 11}.get(value.dtype)
    if elem is None:
        raise Unsupported(f"a value of dtype {value.dtype}")
    scalar = value.reshape(-1)[0].item()
    ctx.op("ConstantFill", [node.input[0]], [node.output[0]], input_as_shape=1,
           value=float(scalar) if elem in (1, 11) else int(scalar),
           dtype=ONNX_TO_CAFFE2[elem])


@converter("Reshape")
def _reshape(ctx: ImportContext, node, attrs) -> None:
    out = [node.output[0], ctx.tmp(node.output[0] + "_old_shape")]
    shape = ctx.const(node.input[1])
    if shape is not None:
        dims = ints_of(shape)
        if attrs.get("allowzero", 0) and 0 in dims:
            raise Unsupported("allowzero=1 with a 0 in the shape")
        ctx.op("Reshape", [node.input[0]], out, shape=dims)
    else:
        if attrs.get("allowzero", 0):
            raise Unsupported("allowzero=1 with a computed shape")
        ctx.op("Reshape", [node.input[0], node.input[1]], out)


@converter("Flatten")
def _flatten(ctx: ImportContext, node, attrs) -> None:
    axis = int(attrs.get("axis", 1))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    ctx.op("Flatten", [node.input[0]], [node.output[0]], axis=axis)


@converter("Transpose")
def _transpose(ctx: ImportContext, node, attrs) -> None:
    perm = attrs.get("perm")
    ctx.op("Transpose", [node.input[0]], [node.output[0]],
           axes=None if perm is None else [int(p) for p in perm])


@converter("Squeeze")
def _squeeze(ctx: ImportContext, node, attrs) -> None:
    x = node.input[0]
    axes = _axes(ctx, node, attrs, 1)
    if axes is None:
        shape = ctx.static_shape(x)
        if shape is None:
            raise Unsupported("no axes on an input of unknown shape")
        axes = [i for i, d in enumerate(shape) if d == 1]
    elif any(a < 0 for a in axes):
        rank = ctx.need_rank(x, "a negative axis")
        axes = [canon_axis(a, rank) for a in axes]
    if not axes:
        ctx.op("Copy", [x], [node.output[0]])
        return
    ctx.op("Squeeze", [x], [node.output[0]], dims=sorted(axes))


@converter("Unsqueeze")
def _unsqueeze(ctx: ImportContext, node, attrs) -> None:
    x = node.input[0]
    axes = _axes(ctx, node, attrs, 1)
    if axes is None:
        raise Unsupported("no axes")
    if any(a < 0 for a in axes):
        rank = ctx.need_rank(x, "a negative axis") + len(axes)
        axes = [canon_axis(a, rank) for a in axes]
    ctx.op("ExpandDims", [x], [node.output[0]], dims=sorted(axes))


@converter("Concat")
def _concat(ctx: ImportContext, node, attrs) -> None:
    axis = int(attrs.get("axis", 1))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    ctx.op("Concat", list(node.input), [node.output[0]], axis=axis)


@converter("Split")
def _split(ctx: ImportContext, node, attrs) -> None:
    x = node.input[0]
    axis = int(attrs.get("axis", 0))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(x, "a negative axis"))
    split = attrs.get("split")
    if split is None and len(node.input) > 1 and node.input[1]:
        value = ctx.const(node.input[1])
        if value is None:  # Caffe2's Split reads int32 sizes from its second input
            sizes = ctx.op("Cast", [node.input[1]], [ctx.tmp(node.input[1] + "_int32")],
                           to=ONNX_TO_CAFFE2[6])
            ctx.op("Split", [x, sizes], list(node.output), axis=axis)
            return
        split = ints_of(value)
    n = len(node.output)
    if split is None and "num_outputs" in attrs:
        shape = ctx.shape(x)
        size = None if shape is None else shape[axis]
        if size is None:
            raise Unsupported("num_outputs on an input of unknown shape")
        chunk = -(-size // n)
        split = [chunk] * (n - 1) + [size - chunk * (n - 1)]
    ctx.op("Split", [x], list(node.output), axis=axis,
           split=None if split is None else [int(s) for s in split])


@converter("Gather")
def _gather(ctx: ImportContext, node, attrs) -> None:
    axis = int(attrs.get("axis", 0))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    # ONNX allows negative indices (counted from the end): Caffe2's wrap_indices.
    ctx.op("Gather", list(node.input[:2]), [node.output[0]], axis=axis, wrap_indices=1)


_BIG = 2**31 - 1


@converter("Slice")
def _slice(ctx: ImportContext, node, attrs) -> None:
    x = node.input[0]
    if ctx.opset < 10:
        starts, ends = list(attrs["starts"]), list(attrs["ends"])
        axes = attrs.get("axes")
        steps = None
    else:
        starts = ints_of(ctx.need_const(node.input[1], "starts"))
        ends = ints_of(ctx.need_const(node.input[2], "ends"))
        axes = _axes(ctx, node, {}, 3)
        steps = (ints_of(ctx.need_const(node.input[4], "steps"))
                 if len(node.input) > 4 and node.input[4] else None)
    rank = ctx.need_rank(x, "Slice")
    axes = list(range(len(starts))) if axes is None else [canon_axis(a, rank) for a in axes]
    steps = [1] * len(axes) if steps is None else steps
    shape = ctx.shape(x)
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


@converter("Shape")
def _shape(ctx: ImportContext, node, attrs) -> None:
    _shape_ops(ctx, node, attrs)
    dims = ctx.static_shape(node.input[0])
    if dims is not None:  # known before running: later converters may read it
        rank = len(dims)
        start, end = int(attrs.get("start", 0)), int(attrs.get("end", rank))
        start = min(max(start + rank if start < 0 else start, 0), rank)
        end = min(max(end + rank if end < 0 else end, 0), rank)
        ctx.consts[node.output[0]] = np.array(dims[start:max(start, end)], np.int64)


def _shape_ops(ctx: ImportContext, node, attrs) -> None:
    if "start" in attrs or "end" in attrs:
        rank = ctx.need_rank(node.input[0], "Shape with start/end")
        start, end = int(attrs.get("start", 0)), int(attrs.get("end", rank))
        start = min(max(start + rank if start < 0 else start, 0), rank)
        end = min(max(end + rank if end < 0 else end, 0), rank)
        axes = list(range(start, max(start, end)))
        if axes != list(range(rank)):
            if not axes:
                ctx.op("GivenTensorInt64Fill", [], [node.output[0]], values=[], shape=[0])
                return
            ctx.op("Shape", [node.input[0]], [node.output[0]], axes=axes)
            return
    ctx.op("Shape", [node.input[0]], [node.output[0]])


@converter("Size")
def _size(ctx: ImportContext, node, attrs) -> None:
    ctx.op("Size", [node.input[0]], [node.output[0]])


@converter("Expand")
def _expand(ctx: ImportContext, node, attrs) -> None:
    x, out = node.input[0], node.output[0]
    if ctx.elem_type(x) != 9:
        ctx.op("Expand", [x, node.input[1]], [out])
        return
    # Caffe2's Expand has no bool kernel: through int32
    as_int = ctx.op("Cast", [x], [ctx.tmp(x + "_int")], to=ONNX_TO_CAFFE2[6])
    wide = ctx.op("Expand", [as_int, node.input[1]], [ctx.tmp(out + "_int")])
    ctx.op("Cast", [wide], [out], to=ONNX_TO_CAFFE2[9])


@converter("Tile")
def _tile(ctx: ImportContext, node, attrs) -> None:
    ctx.op("NumpyTile", list(node.input[:2]), [node.output[0]])


_REDUCE = {"ReduceSum": "ReduceSum", "ReduceMean": "ReduceMean", "ReduceMax": "ReduceMax",
           "ReduceMin": "ReduceMin", "ReduceL1": "ReduceL1", "ReduceL2": "ReduceL2",
           "ReduceSumSquare": "ReduceSum", "ReduceLogSum": "ReduceSum",
           "ReduceLogSumExp": "ReduceSum"}
# With noop_with_empty_axes and no axes, ONNX still applies the element-wise part.
_NOOP = {"ReduceSumSquare": "Sqr", "ReduceL1": "Abs", "ReduceL2": "Abs", "ReduceLogSum": "Log"}


@converter(*_REDUCE)
def _reduce(ctx: ImportContext, node, attrs) -> None:
    x, out, kind = node.input[0], node.output[0], node.op_type
    axes = _axes(ctx, node, attrs, 1)
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            ctx.op(_NOOP.get(kind, "Copy"), [x], [out])
            return
        axes = None
    elif any(a < 0 for a in axes):
        rank = ctx.need_rank(x, "a negative axis")
        axes = [canon_axis(a, rank) for a in axes]
    if axes is None:
        rank = ctx.rank(x)
        axes = None if rank is None else list(range(rank))
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
def _arg(ctx: ImportContext, node, attrs) -> None:
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


@converter("Range")
def _range(ctx: ImportContext, node, attrs) -> None:
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
def _top_k(ctx: ImportContext, node, attrs) -> None:
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
def _trilu(ctx: ImportContext, node, attrs) -> None:
    """Where(mask, X, 0) with the triangle mask of the last two (static) dimensions."""
    from caffe2lite.onnx._import_ops import broadcast_all

    x = node.input[0]
    shape, dtype = ctx.shape(x), ONNX_NUMPY.get(ctx.elem_type(x) or 0)
    if shape is None or len(shape) < 2 or dtype is None:
        raise Unsupported("an input of unknown rank or type")
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
