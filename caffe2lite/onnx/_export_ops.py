"""ONNX converters of Caffe2's element-wise, math, reduction and data-movement ops
(one small function per family; :mod:`._export_nn` has the layers)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import INT64_MAX, OpContext, Unsupported, converter

# Same name, same meaning, no arguments.
UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log",
    "Sqrt": "Sqrt", "Abs": "Abs", "Negative": "Neg", "Floor": "Floor", "Ceil": "Ceil",
    "Not": "Not", "Reciprocal": "Reciprocal", "Sin": "Sin", "Cos": "Cos", "Tan": "Tan",
    "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Erf": "Erf", "Softplus": "Softplus",
    "Softsign": "Softsign", "Sign": "Sign",
    "Copy": "Identity", "Alias": "Identity", "StopGradient": "Identity",
}
# Caffe2 argument -> ONNX attribute.
WITH_ATTRS = {
    "LeakyRelu": ("LeakyRelu", {"alpha": "alpha"}),
    "Elu": ("Elu", {"alpha": "alpha"}),
    "Selu": ("Selu", {"alpha": "alpha", "scale": "gamma"}),
    "HardSigmoid": ("HardSigmoid", {"alpha": "alpha", "beta": "beta"}),
    "ThresholdedRelu": ("ThresholdedRelu", {"alpha": "alpha"}),
}
BINARY = {
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "And": "And", "Or": "Or",
    "Xor": "Xor", "EQ": "Equal", "LT": "Less", "GT": "Greater", "LE": "LessOrEqual",
    "GE": "GreaterOrEqual",
}
VARIADIC = {"Sum": "Sum", "Mean": "Mean", "Max": "Max", "Min": "Min"}


@converter(*UNARY)
def unary(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one(UNARY[op.type], [op.input[0]], op.output[0])


@converter(*WITH_ATTRS)
def unary_with_attrs(ctx: OpContext, op: Any, args: dict) -> None:
    onnx_type, names = WITH_ATTRS[op.type]
    ctx.one(onnx_type, [op.input[0]], op.output[0],
            **{dst: float(args[src]) for src, dst in names.items()})


@converter("Sqr", "Cube", "Rsqrt", "Swish", "Mish", "Gelu", "Log1p", "Scale", "Logit")
def composite_unary(ctx: OpContext, op: Any, args: dict) -> None:
    """Ops ONNX spells as a few nodes (or, from some opset on, as one)."""
    x, y, t = op.input[0], op.output[0], op.type
    if t == "Sqr":
        ctx.one("Mul", [x, x], y)
    elif t == "Cube":
        ctx.one("Mul", [ctx.one("Mul", [x, x]), x], y)
    elif t == "Rsqrt":
        ctx.one("Reciprocal", [ctx.one("Sqrt", [x])], y)
    elif t == "Swish":
        ctx.one("Mul", [x, ctx.one("Sigmoid", [x])], y)
    elif t == "Mish":
        if ctx.opset >= 18:
            ctx.one("Mish", [x], y)
        else:
            ctx.one("Mul", [x, ctx.one("Tanh", [ctx.one("Softplus", [x])])], y)
    elif t == "Scale":
        ctx.one("Mul", [x, ctx.scalar_like(args["scale"], x)], y)
    elif t == "Log1p":
        ctx.one("Log", [ctx.one("Add", [x, ctx.scalar_like(1.0, x)])], y)
    elif t == "Logit":
        eps = args["eps"]
        c = ctx.one("Clip", [x, ctx.scalar_like(eps, x), ctx.scalar_like(1.0 - eps, x)])
        odds = ctx.one("Div", [c, ctx.one("Sub", [ctx.scalar_like(1.0, x), c])])
        ctx.one("Log", [odds], y)
    else:  # Gelu
        _gelu(ctx, x, y, args["fast_gelu"])


def _gelu(ctx: OpContext, x: str, y: str, fast: bool) -> None:
    if ctx.opset >= 20:
        ctx.one("Gelu", [x], y, approximate="tanh" if fast else "none")
        return
    if fast:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = ctx.one("Mul", [ctx.one("Mul", [x, x]), x])
        inner = ctx.one("Add", [x, ctx.one("Mul", [cube, ctx.scalar_like(0.044715, x)])])
        inner = ctx.one("Mul", [inner, ctx.scalar_like(math.sqrt(2 / math.pi), x)])
        core = ctx.one("Tanh", [inner])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        core = ctx.one("Erf", [ctx.one("Mul", [x, ctx.scalar_like(math.sqrt(0.5), x)])])
    half = ctx.one("Mul", [x, ctx.scalar_like(0.5, x)])
    ctx.one("Mul", [half, ctx.one("Add", [core, ctx.scalar_like(1.0, x)])], y)


def _legacy_b(ctx: OpContext, a: str, b: str, args: dict) -> str:
    """B of a ``broadcast=1`` op reshaped so that numpy-style broadcasting lines it
    up with A's dimensions from ``axis`` (Caffe2's legacy broadcasting)."""
    axis = args.get("axis", -1)
    if args.get("axis_str"):
        axis = args.get("order", "NCHW").find(args["axis_str"])
    rank_a = ctx.rank(a)
    bd = ctx.dims(b)
    if axis == -1:
        axis = rank_a - len(bd)
    start = next((i for i, d in enumerate(bd) if d != 1), len(bd))
    end = next((i for i in range(len(bd) - 1, start - 1, -1) if bd[i] != 1), start - 1)
    target = list(bd[start:end + 1]) + [1] * (rank_a - axis - end - 1)
    if start > end:
        target = []
    value = ctx.value(b)
    if value is not None:
        return ctx.const(value.reshape(target), hint="b")
    return ctx.one("Reshape", [b, ctx.ints(target)])


@converter(*BINARY, "NE", "Pow")
def binary(ctx: OpContext, op: Any, args: dict) -> None:
    a, y = op.input[0], op.output[0]
    if op.type == "Pow" and len(op.input) == 1:
        if args["exponent"] is None:
            raise Unsupported("Pow without an exponent")
        b = ctx.scalar_like(args["exponent"], a)
    else:
        b = op.input[1]
        if args.get("broadcast"):
            b = _legacy_b(ctx, a, b, args)
    if op.type == "NE":
        ctx.one("Not", [ctx.one("Equal", [a, b])], y)
    else:
        ctx.one(BINARY.get(op.type, op.type), [a, b], y)


@converter(*VARIADIC)
def variadic(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one(VARIADIC[op.type], list(op.input), op.output[0])


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
    except Exception as e:  # Caffe2's refusals (BYTE, FLOAT16 ...)
        raise Unsupported(str(e)) from None
    if dtype.kind == "O":
        raise Unsupported("Cast to STRING")
    ctx.one("Cast", [op.input[0]], op.output[0],
            to=onnx.helper.np_dtype_to_tensor_dtype(dtype))


@converter("Where")
def where(ctx: OpContext, op: Any, args: dict) -> None:
    c = op.input[0]
    if args["broadcast_on_rows"]:
        extra = ctx.rank(op.input[1]) - ctx.rank(c)
        c = ctx.unsqueeze(c, list(range(ctx.rank(c), ctx.rank(c) + extra))) if extra else c
    ctx.one("Where", [c, op.input[1], op.input[2]], op.output[0])


REDUCE = {"ReduceSum": "ReduceSum", "ReduceMean": "ReduceMean", "ReduceMax": "ReduceMax",
          "ReduceMin": "ReduceMin", "ReduceL1": "ReduceL1", "ReduceL2": "ReduceL2"}
FRONT_BACK = {"ReduceFrontSum": "ReduceSum", "ReduceBackSum": "ReduceSum",
              "ReduceFrontMean": "ReduceMean", "ReduceBackMean": "ReduceMean",
              "ReduceFrontMax": "ReduceMax", "ReduceBackMax": "ReduceMax"}


def reduce_node(ctx: OpContext, kind: str, x: str, axes: list[int], keepdims: bool,
                out: str | None = None) -> str:
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
    reduce_node(ctx, REDUCE[op.type], op.input[0], list(args["axes"]), args["keepdims"],
                op.output[0])


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
    ctx.one(op.type, [op.input[0]], op.output[0], axis=args["axis"],
            keepdims=int(args["keepdims"]))


@converter("MatMul")
def mat_mul(ctx: OpContext, op: Any, args: dict) -> None:
    """Caffe2's MatMul: A and B read as 2-D at axis_a / axis_b, then a Gemm."""
    ins = []
    for x, axis in ((op.input[0], args["axis_a"]), (op.input[1], args["axis_b"])):
        ins.append(x if ctx.rank(x) == 2 and axis == 1 else ctx.one("Flatten", [x], axis=axis))
    ctx.one("Gemm", ins, op.output[0], transA=int(args["trans_a"]),
            transB=int(args["trans_b"]))


@converter("BatchMatMul")
def batch_mat_mul(ctx: OpContext, op: Any, args: dict) -> None:
    ins = []
    for x, trans in ((op.input[0], args["trans_a"]), (op.input[1], args["trans_b"])):
        r = ctx.rank(x)
        if trans and r >= 2:
            x = ctx.transpose(x, list(range(r - 2)) + [r - 1, r - 2])
        ins.append(x)
    ctx.one("MatMul", ins, op.output[0])


@converter("DotProduct")
def dot_product(ctx: OpContext, op: Any, args: dict) -> None:
    x, y = op.input
    if ctx.dims(x) != ctx.dims(y):
        raise Unsupported("inputs of different shapes (Caffe2 pads or replicates)")
    prod = ctx.one("Mul", [x, y])
    if ctx.rank(x) == 1:
        ctx.one("Identity", [prod], op.output[0])
    else:
        reduce_node(ctx, "ReduceSum", prod, list(range(1, ctx.rank(x))), False, op.output[0])


@converter("ElementwiseLinear")
def elementwise_linear(ctx: OpContext, op: Any, args: dict) -> None:
    x, w, b = op.input
    flat = ctx.one("Flatten", [x], axis=args["axis"])
    y = ctx.one("Add", [ctx.one("Mul", [flat, w]), b])
    ctx.reshape_like(y, x, op.output[0])


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
    outs = list(op.output) if len(op.output) == 2 else [op.output[0], ctx.fresh("topk_i")]
    ctx.node("TopK", [x, ctx.ints([args["k"]])], outs, axis=axis, largest=1, sorted=1)


# Shape and data movement -------------------------------------------------------


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
    ctx.one("Slice", [op.input[0], ctx.ints(starts), ctx.ints(ends), ctx.ints(axes)],
            op.output[0])


@converter("Reshape")
def reshape(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    if len(op.input) > 1:
        value = ctx.value(op.input[1])
        target = (ctx.ints(value) if value is not None
                  else ctx.one("Cast", [op.input[1]], to=7))  # INT64
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
    first, last = ctx.channels_last(op.input[0], ctx.rank(op.input[0]))
    ctx.transpose(op.input[0], last if op.type == "NCHW2NHWC" else first, op.output[0])


@converter("Flatten")
def flatten(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one("Flatten", [op.input[0]], op.output[0], axis=args["axis"])


@converter("FlattenToVec")
def flatten_to_vec(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one("Reshape", [op.input[0], ctx.ints([-1])], op.output[0])


@converter("Squeeze")
def squeeze(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.squeeze(op.input[0], sorted(set(args["dims"])), op.output[0])


@converter("ExpandDims")
def expand_dims(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.unsqueeze(op.input[0], sorted(set(args["dims"])), op.output[0])


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
    repeats = [1] * ctx.rank(x)
    repeats[args["axis"] if args["axis"] is not None else 0] = (
        args["tiles"] if args["tiles"] is not None else 1)
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
                sizes.append(ctx.one("Gather", [ctx.one("Shape", [x]), ctx.ints([axis])]))
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
    if len(op.input) > 1:
        parts = ctx.value(op.input[1])
        parts = (ctx.ints(parts) if parts is not None
                 else ctx.one("Cast", [op.input[1]], to=7))
    elif args["split"]:
        parts = ctx.ints(args["split"])
    else:
        d = ctx.shape(x).dims
        if d is not None and isinstance(d[axis], int):
            if d[axis] % n:
                raise Unsupported(f"{d[axis]} does not split into {n} equal parts")
            parts = ctx.ints([d[axis] // n] * n)
        else:
            parts = None
    outs = list(op.output) if not args["add_axis"] else [ctx.fresh("split") for _ in range(n)]
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


@converter("ConstantFill", "GivenTensorFill", "GivenTensorDoubleFill", "GivenTensorIntFill",
           "GivenTensorInt64Fill", "GivenTensorBoolFill", "GivenTensorInt16Fill")
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
