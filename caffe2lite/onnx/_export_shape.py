"""ONNX converters of Caffe2's shape and data-movement ops and of the fills found in
a predict net (one small function per family)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import INT64_MAX, OpContext, Unsupported, converter


def _caffe2_index(v: int) -> int:
    """A Caffe2 Slice start/end (negative counts from one past the end) in ONNX's
    convention."""
    if v >= 0:
        return v
    return v + 1 if v + 1 < 0 else INT64_MAX


@converter("Slice")
def slice_(ctx: OpContext, op: Any, args: dict) -> None:
    starts, ends = args["starts"], args["ends"]
    if len(op.input) == 3:
        starts, ends = ctx.value(op.input[1]), ctx.value(op.input[2])
        if starts is None or ends is None:
            raise Unsupported("starts / ends given as data blobs")
    if starts is None or ends is None:
        raise Unsupported("no starts / ends")
    starts = [_caffe2_index(int(v)) for v in np.ravel(starts)]
    ends = [_caffe2_index(int(v)) for v in np.ravel(ends)]
    axes = list(range(len(starts)))
    ctx.one(
        "Slice",
        [op.input[0], ctx.ints(starts), ctx.ints(ends), ctx.ints(axes)],
        op.output[0],
    )


@converter("Reshape")
def reshape(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    if len(op.input) > 1:
        value = ctx.value(op.input[1])
        target = (
            ctx.ints(value)
            if value is not None
            else ctx.one("Cast", [op.input[1]], to=7)
        )  # INT64
    elif args["shape"] is not None:
        target = ctx.ints(args["shape"])
    else:
        raise Unsupported("no new shape")
    ctx.one("Reshape", [x, target], op.output[0])
    if len(op.output) > 1 and ctx.used(op.output[1]):
        ctx.one("Shape", [x], op.output[1])


@converter("Transpose")
def transpose(ctx: OpContext, op: Any, args: dict) -> None:
    perm = list(args["axes"]) or list(range(ctx.rank(op.input[0])))[::-1]
    ctx.transpose(op.input[0], perm, op.output[0])


@converter("NCHW2NHWC", "NHWC2NCHW")
def layout(ctx: OpContext, op: Any, args: dict) -> None:
    first, last = ctx.channels_last(op.input[0])
    ctx.transpose(op.input[0], last if op.type == "NCHW2NHWC" else first, op.output[0])


@converter("Flatten")
def flatten(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one("Flatten", [op.input[0]], op.output[0], axis=args["axis"])


@converter("FlattenToVec")
def flatten_to_vec(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one("Reshape", [op.input[0], ctx.ints([-1])], op.output[0])


@converter("Squeeze", "ExpandDims")
def squeeze_expand_dims(ctx: OpContext, op: Any, args: dict) -> None:
    """The listed dims removed (Squeeze) or inserted (ExpandDims)."""
    dims = sorted(set(args["dims"]))
    if not dims:  # Caffe2 refuses it (ONNX would squeeze every 1)
        raise Unsupported("Parameter `dims` must be provided.")
    if op.type == "Squeeze":
        ctx.squeeze(op.input[0], dims, op.output[0])
    else:
        ctx.unsqueeze(op.input[0], dims, op.output[0])


@converter("Shape")
def shape(ctx: OpContext, op: Any, args: dict) -> None:
    if not args["axes"]:
        ctx.one("Shape", [op.input[0]], op.output[0])
        return
    whole = ctx.one("Shape", [op.input[0]])
    ctx.one("Gather", [whole, ctx.ints(args["axes"])], op.output[0], axis=0)


@converter("Size")
def size(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one("Size", [op.input[0]], op.output[0])


@converter("Tile")
def tile(ctx: OpContext, op: Any, args: dict) -> None:
    if len(op.input) > 1:
        raise Unsupported("tiles / axis given as blobs")
    x = op.input[0]
    rank = ctx.rank(x)
    axis = args["axis"] if args["axis"] is not None else 0
    repeats = [1] * rank
    repeats[axis + rank if axis < 0 else axis] = (
        args["tiles"] if args["tiles"] is not None else 1
    )
    ctx.one("Tile", [x, ctx.ints(repeats)], op.output[0])


@converter("Concat")
def concat(ctx: OpContext, op: Any, args: dict) -> None:
    """Caffe2's Concat also gives the sizes along the axis (split_info, int32)."""
    x0 = op.input[0]
    rank = ctx.rank(x0)
    axis = _axis(args, rank + (1 if args["add_axis"] else 0))
    ins = list(op.input)
    if args["add_axis"]:
        ins = [ctx.unsqueeze(x, [axis]) for x in ins]
    ctx.one("Concat", ins, op.output[0], axis=axis)
    if len(op.output) > 1 and ctx.used(op.output[1]):
        sizes = []
        for x in ins:
            d = ctx.shape(x).dims
            if args["add_axis"]:
                sizes.append(ctx.ints([1]))
            elif d is not None and isinstance(d[axis], int):
                sizes.append(ctx.ints([d[axis]]))
            else:
                sizes.append(
                    ctx.one("Gather", [ctx.one("Shape", [x]), ctx.ints([axis])])
                )
        ctx.one("Cast", [ctx.one("Concat", sizes, axis=0)], op.output[1], to=6)  # INT32


def _axis(args: dict, rank: int) -> int:
    axis = args.get("axis")
    if axis is None:
        axis = 3 if args.get("order") == "NHWC" else 1
    return axis + rank if axis < 0 else axis


@converter("Split")
def split(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    rank = ctx.rank(x)
    axis = _axis(args, rank)
    n = len(op.output)
    parts: str | None
    if len(op.input) > 1:
        given = ctx.value(op.input[1])
        parts = (
            ctx.ints(given)
            if given is not None
            else ctx.one("Cast", [op.input[1]], to=7)
        )
    elif args["split"]:
        parts = ctx.ints(args["split"])
    else:
        d = ctx.shape(x).dims
        size = None if d is None else d[axis]
        if isinstance(size, int):
            if size % n:
                raise Unsupported(f"{size} does not split into {n} equal parts")
            parts = ctx.ints([size // n] * n)
        else:
            parts = None
    outs = (
        list(op.output)
        if not args["add_axis"]
        else [ctx.fresh("split") for _ in range(n)]
    )
    extra = {"num_outputs": n} if parts is None and ctx.opset >= 18 else {}
    ctx.node("Split", [x] + ([parts] if parts else []), outs, axis=axis, **extra)
    if args["add_axis"]:
        for part, y in zip(outs, op.output):
            ctx.squeeze(part, [axis], y)


@converter("Dropout")
def dropout(ctx: OpContext, op: Any, args: dict) -> None:
    if not args["is_test"] and args["ratio"] > 0:
        raise Unsupported("is_test=0 drops at random (export the inference net)")
    ctx.one("Identity", [op.input[0]], op.output[0])
    if len(op.output) > 1 and ctx.used(op.output[1]):
        ones = ctx.one("Shape", [op.input[0]])
        true = np.ones(1, np.bool_)
        ctx.one("ConstantOfShape", [ones], op.output[1], value=true)


@converter(
    "ConstantFill",
    "GivenTensorFill",
    "GivenTensorDoubleFill",
    "GivenTensorIntFill",
    "GivenTensorInt64Fill",
    "GivenTensorBoolFill",
    "GivenTensorInt16Fill",
    "GivenTensorFp16Fill",
    "GivenTensorByteStringToUInt8Fill",
    "DiagonalFill",
    "RangeFill",
)
def fill(ctx: OpContext, op: Any, args: dict) -> None:
    """A fill without inputs is a Constant of the value caffe2lite computes; with an
    input it fills a shape read at run time (ConstantOfShape)."""
    from caffe2lite.runtime.workspace import Workspace

    if not op.input:
        ws = Workspace()
        ws.run_operator_once(op)
        value = np.asarray(ws.fetch_blob(op.output[0]))
        if value.dtype.kind in "OSU":
            raise Unsupported("a string tensor")
        ctx.graph.constants[op.output[0]] = value
        ctx.one("Constant", [], op.output[0], value=value)
        return
    if op.type != "ConstantFill":
        raise Unsupported("shape from an input blob")
    ws = Workspace()
    one = type(op)()
    one.CopyFrom(op)
    del one.input[:]
    for a in list(one.arg):
        if a.name in ("input_as_shape", "extra_shape"):
            one.arg.remove(a)
    one.arg.add(name="shape", ints=[1])
    ws.run_operator_once(one)
    value = np.asarray(ws.fetch_blob(one.output[0])).reshape(1)
    x = op.input[0]
    if args["input_as_shape"]:
        shape_ = ctx.one("Cast", [x], to=7)
    else:
        shape_ = ctx.one("Shape", [x])
    if args["extra_shape"]:
        shape_ = ctx.one("Concat", [shape_, ctx.ints(args["extra_shape"])], axis=0)
    ctx.one("ConstantOfShape", [shape_], op.output[0], value=value)


@converter("Gather")
def gather(ctx: OpContext, op: Any, args: dict) -> None:
    if args["match_outer"]:
        raise Unsupported("match_outer=1")
    ctx.one("Gather", list(op.input), op.output[0], axis=args["axis"])


@converter("BatchGather")
def batch_gather(ctx: OpContext, op: Any, args: dict) -> None:
    if args["match_outer"]:
        raise Unsupported("match_outer=1")
    ctx.one("Gather", list(op.input), op.output[0], axis=args["axis"])


@converter("TopK")
def top_k(ctx: OpContext, op: Any, args: dict) -> None:
    if len(op.output) > 2 or len(op.input) > 1:
        raise Unsupported("flattened indices output or k from a blob")
    x = op.input[0]
    axis = args.get("axis", -1)
    outs = (
        list(op.output) if len(op.output) == 2 else [op.output[0], ctx.fresh("topk_i")]
    )
    ctx.node("TopK", [x, ctx.ints([args["k"]])], outs, axis=axis, largest=1, sorted=1)


@converter("Expand")
def expand(ctx: OpContext, op: Any, args: dict) -> None:
    """numpy broadcasting of X against the shape: ONNX's Expand."""
    shape_ = ctx.value(op.input[1])
    target = (
        ctx.ints(shape_) if shape_ is not None else ctx.one("Cast", [op.input[1]], to=7)
    )
    ctx.one("Expand", [op.input[0], target], op.output[0])


@converter("MergeDim", "PrependDim")
def merge_prepend_dim(ctx: OpContext, op: Any, args: dict) -> None:
    """(d0, d1, rest) -> (d0 d1, rest); PrependDim: (d0, rest) -> (k, d0 / k, rest)."""
    x = op.input[0]
    head = [-1] if op.type == "MergeDim" else [args["dim_size"], -1]
    start = 2 if op.type == "MergeDim" else 1
    target = ctx.one("Concat", [ctx.ints(head), ctx.shape_part(x, start, None)], axis=0)
    ctx.one("Reshape", [x, target], op.output[0])


@converter("NumpyTile")
def numpy_tile(ctx: OpContext, op: Any, args: dict) -> None:
    given = ctx.value(op.input[1])
    reps = ctx.ints(given) if given is not None else ctx.one("Cast", [op.input[1]], to=7)
    ctx.one("Tile", [op.input[0], reps], op.output[0])


@converter("ResizeLike")
def resize_like(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.reshape_like(op.input[0], op.input[1], op.output[0])


@converter("Range")
def range_(ctx: OpContext, op: Any, args: dict) -> None:
    """[start, stop) by step, from one, two or three one-element inputs."""
    ins = [ctx.one("Reshape", [b, ctx.ints([])]) for b in op.input]
    like = op.input[0]
    if len(ins) == 1:
        ins = [ctx.const(np.zeros((), ctx.dtype(like)), hint="start"), ins[0]]
    if len(ins) == 2:
        ins.append(ctx.const(np.ones((), ctx.dtype(like)), hint="step"))
    ctx.one("Range", ins, op.output[0])
