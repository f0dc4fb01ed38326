"""ONNX converters of Caffe2's element-wise and matrix ops (one small function per
family; :mod:`._export_reduce` has the reductions and losses, :mod:`._export_shape`
the data movement, :mod:`._export_nn` the layers)."""

from __future__ import annotations

import math
from typing import Any

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter
from caffe2lite.onnx._export_reduce import reduce_node

# Same name, same meaning, no arguments.


UNARY = {
    "Relu": "Relu",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Exp": "Exp",
    "Log": "Log",
    "Sqrt": "Sqrt",
    "Abs": "Abs",
    "Negative": "Neg",
    "Floor": "Floor",
    "Ceil": "Ceil",
    "Not": "Not",
    "Reciprocal": "Reciprocal",
    "Sin": "Sin",
    "Cos": "Cos",
    "Tan": "Tan",
    "Asin": "Asin",
    "Acos": "Acos",
    "Atan": "Atan",
    "Erf": "Erf",
    "Softplus": "Softplus",
    "Softsign": "Softsign",
    "Sign": "Sign",
    "Copy": "Identity",
    "Alias": "Identity",
    "StopGradient": "Identity",
    "EnsureDense": "Identity",
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
    "Add": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "Div": "Div",
    "And": "And",
    "Or": "Or",
    "Xor": "Xor",
    "EQ": "Equal",
    "LT": "Less",
    "GT": "Greater",
    "LE": "LessOrEqual",
    "GE": "GreaterOrEqual",
}


VARIADIC = {"Sum": "Sum", "Mean": "Mean", "Max": "Max", "Min": "Min"}


@converter(*UNARY)
def unary(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one(UNARY[op.type], [op.input[0]], op.output[0])


@converter(*WITH_ATTRS)
def unary_with_attrs(ctx: OpContext, op: Any, args: dict) -> None:
    onnx_type, names = WITH_ATTRS[op.type]
    ctx.one(
        onnx_type,
        [op.input[0]],
        op.output[0],
        **{dst: float(args[src]) for src, dst in names.items()},
    )


def _mish(ctx: OpContext, x: str, y: str, args: dict) -> None:
    if ctx.opset >= 18:
        ctx.one("Mish", [x], y)
    else:
        ctx.one("Mul", [x, ctx.one("Tanh", [ctx.one("Softplus", [x])])], y)


def _logit(ctx: OpContext, x: str, y: str, args: dict) -> None:
    eps = args["eps"]
    c = ctx.one("Clip", [x, ctx.scalar_like(eps, x), ctx.scalar_like(1.0 - eps, x)])
    odds = ctx.one("Div", [c, ctx.one("Sub", [ctx.scalar_like(1.0, x), c])])
    ctx.one("Log", [odds], y)


# Ops ONNX spells as a few nodes (or, from some opset on, as one): f(ctx, x, y, args).
COMPOSITE = {
    "Sqr": lambda ctx, x, y, args: ctx.one("Mul", [x, x], y),
    "Cube": lambda ctx, x, y, args: ctx.one("Mul", [ctx.one("Mul", [x, x]), x], y),
    "Rsqrt": lambda ctx, x, y, args: ctx.one("Reciprocal", [ctx.one("Sqrt", [x])], y),
    "RSqrt": lambda ctx, x, y, args: ctx.one("Reciprocal", [ctx.one("Sqrt", [x])], y),
    "Swish": lambda ctx, x, y, args: ctx.one("Mul", [x, ctx.one("Sigmoid", [x])], y),
    "Scale": lambda ctx, x, y, args: ctx.one(
        "Mul", [x, ctx.scalar_like(args["scale"], x)], y
    ),
    "Log1p": lambda ctx, x, y, args: ctx.one(
        "Log", [ctx.one("Add", [x, ctx.scalar_like(1.0, x)])], y
    ),
    "Mish": _mish,
    "Logit": _logit,
    "Gelu": lambda ctx, x, y, args: _gelu(ctx, x, y, args["fast_gelu"]),
}


@converter(*COMPOSITE)
def composite_unary(ctx: OpContext, op: Any, args: dict) -> None:
    COMPOSITE[op.type](ctx, op.input[0], op.output[0], args)


def _gelu(ctx: OpContext, x: str, y: str, fast: bool) -> None:
    if ctx.opset >= 20:
        ctx.one("Gelu", [x], y, approximate="tanh" if fast else "none")
        return
    if fast:  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = ctx.one("Mul", [ctx.one("Mul", [x, x]), x])
        inner = ctx.one(
            "Add", [x, ctx.one("Mul", [cube, ctx.scalar_like(0.044715, x)])]
        )
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
    target = list(bd[start : end + 1]) + [1] * (rank_a - axis - end - 1)
    if start > end:
        target = []
    value = ctx.value(b)
    if value is not None:
        return ctx.const(value.reshape(target), hint="b")
    return ctx.one("Reshape", [b, ctx.ints(target)])


BITWISE = {
    "BitwiseAnd": "BitwiseAnd",
    "BitwiseOr": "BitwiseOr",
    "BitwiseXor": "BitwiseXor",
}


@converter(*BINARY, *BITWISE, "NE", "Pow")
def binary(ctx: OpContext, op: Any, args: dict) -> None:
    a, y = op.input[0], op.output[0]
    if op.type in BITWISE and ctx.opset < 18:
        raise Unsupported(f"{op.type} needs opset 18 or later")
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
        ctx.one({**BINARY, **BITWISE}.get(op.type, op.type), [a, b], y)


@converter(*VARIADIC)
def variadic(ctx: OpContext, op: Any, args: dict) -> None:
    ctx.one(VARIADIC[op.type], list(op.input), op.output[0])


@converter("WeightedSum")
def weighted_sum(ctx: OpContext, op: Any, args: dict) -> None:
    """X0 * w0 + X1 * w1 + ...: each weight holds one value."""
    if len(op.input) % 2:
        raise Unsupported("an odd number of inputs")
    terms = [ctx.one("Mul", [x, w]) for x, w in zip(op.input[::2], op.input[1::2])]
    ctx.one("Sum", terms, op.output[0])


@converter("Where")
def where(ctx: OpContext, op: Any, args: dict) -> None:
    c = op.input[0]
    if args["broadcast_on_rows"]:
        extra = ctx.rank(op.input[1]) - ctx.rank(c)
        c = (
            ctx.unsqueeze(c, list(range(ctx.rank(c), ctx.rank(c) + extra)))
            if extra
            else c
        )
    ctx.one("Where", [c, op.input[1], op.input[2]], op.output[0])


@converter("MatMul")
def mat_mul(ctx: OpContext, op: Any, args: dict) -> None:
    """Caffe2's MatMul: A and B read as 2-D at axis_a / axis_b, then a Gemm."""
    ins = []
    for x, axis in ((op.input[0], args["axis_a"]), (op.input[1], args["axis_b"])):
        ins.append(
            x if ctx.rank(x) == 2 and axis == 1 else ctx.one("Flatten", [x], axis=axis)
        )
    ctx.one(
        "Gemm",
        ins,
        op.output[0],
        transA=int(args["trans_a"]),
        transB=int(args["trans_b"]),
    )


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
        reduce_node(
            ctx, "ReduceSum", prod, list(range(1, ctx.rank(x))), False, op.output[0]
        )


@converter("ElementwiseLinear")
def elementwise_linear(ctx: OpContext, op: Any, args: dict) -> None:
    x, w, b = op.input
    flat = ctx.one("Flatten", [x], axis=args["axis"])
    y = ctx.one("Add", [ctx.one("Mul", [flat, w]), b])
    ctx.reshape_like(y, x, op.output[0])


@converter("Cbrt")
def cbrt(ctx: OpContext, op: Any, args: dict) -> None:
    x = op.input[0]
    root = ctx.one("Pow", [ctx.one("Abs", [x]), ctx.scalar_like(1.0 / 3.0, x)])
    ctx.one("Mul", [ctx.one("Sign", [x]), root], op.output[0])


@converter("Glu")
def glu(ctx: OpContext, op: Any, args: dict) -> None:
    """The first half of X along ``dim`` times the sigmoid of the second half."""
    x = op.input[0]
    rank = ctx.rank(x)
    axis = args["dim"] + rank if args["dim"] < 0 else args["dim"]
    extra = {"num_outputs": 2} if ctx.opset >= 18 else {}
    a, b = ctx.node("Split", [x], 2, axis=axis, **extra)
    ctx.one("Mul", [a, ctx.one("Sigmoid", [b])], op.output[0])


@converter("ScaleBlobs")
def scale_blobs(ctx: OpContext, op: Any, args: dict) -> None:
    """Each input times ``scale``, into the output of the same position."""
    if len(op.input) != len(op.output):
        raise Unsupported("as many outputs as inputs are needed")
    for x, y in zip(op.input, op.output):
        ctx.one("Mul", [x, ctx.scalar_like(args["scale"], x)], y)
