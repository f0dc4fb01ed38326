"""ONNX element-wise, activation and logic ops -> caffe2lite operators."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._import_context import (
    ONNX_TO_CAFFE2,
    ImportContext,
    Unsupported,
    converter,
)
from caffe2lite.proto import caffe2_pb2

# ONNX op -> Caffe2 op for ops that take one input and no attributes.
_UNARY = {
    "Relu": "Relu", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "Exp": "Exp", "Log": "Log",
    "Sqrt": "Sqrt", "Abs": "Abs", "Neg": "Negative", "Reciprocal": "Reciprocal",
    "Floor": "Floor", "Ceil": "Ceil", "Erf": "Erf", "Softplus": "Softplus",
    "Softsign": "Softsign", "Sin": "Sin", "Cos": "Cos", "Tan": "Tan", "Asin": "Asin",
    "Acos": "Acos", "Atan": "Atan", "Sign": "Sign", "Not": "Not", "Identity": "Copy",
    "Mish": "Mish",
}


@converter(*_UNARY)
def _unary(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op(_UNARY[node.op_type], [node.input[0]], [node.output[0]])


# ONNX op -> (Caffe2 op, [(onnx attribute, caffe2 argument, ONNX default)]).
_ACTIVATIONS = {
    "LeakyRelu": ("LeakyRelu", [("alpha", "alpha", 0.01)]),
    "Elu": ("Elu", [("alpha", "alpha", 1.0)]),
    "Selu": ("Selu", [("alpha", "alpha", 1.67326319217681884765625),
                      ("gamma", "scale", 1.05070102214813232421875)]),
    "HardSigmoid": ("HardSigmoid", [("alpha", "alpha", 0.2), ("beta", "beta", 0.5)]),
    "ThresholdedRelu": ("ThresholdedRelu", [("alpha", "alpha", 1.0)]),
}


@converter(*_ACTIVATIONS)
def _activation(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    c2, spec = _ACTIVATIONS[node.op_type]
    args = {c2_name: float(attrs.get(name, default)) for name, c2_name, default in spec}
    ctx.op(c2, [node.input[0]], [node.output[0]], **args)


@converter("Celu")
def _celu(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    alpha = float(attrs.get("alpha", 1.0))  # alpha * Elu(x / alpha)
    x, out = node.input[0], node.output[0]
    scaled = ctx.op("Scale", [x], [ctx.tmp(out + "_scaled")], scale=1.0 / alpha)
    elu = ctx.op("Elu", [scaled], [ctx.tmp(out + "_elu")], alpha=1.0)
    ctx.op("Scale", [elu], [out], scale=alpha)


@converter("Gelu")
def _gelu(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    approx = attrs.get("approximate", b"none")
    approx = approx.decode("utf-8", "replace") if isinstance(approx, bytes) else approx
    if approx not in ("none", "tanh"):
        raise Unsupported(f"approximate='{approx}'")
    ctx.op("Gelu", [node.input[0]], [node.output[0]], fast_gelu=int(approx == "tanh"))


# ONNX binary op -> Caffe2 op; all broadcast the numpy way (Caffe2 with broadcast=0).
_BINARY = {
    "Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Equal": "EQ",
    "Greater": "GT", "Less": "LT", "GreaterOrEqual": "GE", "LessOrEqual": "LE",
    "And": "And", "Or": "Or", "Xor": "Xor", "BitwiseAnd": "BitwiseAnd",
    "BitwiseOr": "BitwiseOr", "BitwiseXor": "BitwiseXor",
}


@converter(*_BINARY)
def _binary(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    args = {}
    if attrs.get("broadcast"):  # opset < 7: Caffe2's own legacy broadcast
        args = {"broadcast": 1, "axis": attrs.get("axis")}
    ctx.op(_BINARY[node.op_type], list(node.input[:2]), [node.output[0]], **args)


def broadcast_all(ctx: ImportContext, names: list[str]) -> list[str]:
    """``names`` expanded to their common numpy-broadcast shape (for ops that need
    equal shapes): statically when every shape is known, else through Shape(Add(...))."""
    shapes = [ctx.static_shape(n) for n in names]
    known = [s for s in shapes if s is not None]
    if len(known) == len(shapes):
        try:
            target = np.broadcast_shapes(*known)
        except ValueError as e:
            raise Unsupported(f"inputs that do not broadcast ({e})") from None
        if all(s == target for s in shapes):
            return names
        shape_blob = ctx.constant(np.array(target, np.int64), "broadcast_shape")
    else:
        as_float = []
        for n in names:
            if ctx.elem_type(n) == 1:
                as_float.append(n)
            else:
                as_float.append(ctx.op("Cast", [n], [ctx.tmp(n + "_f")],
                                       to=caffe2_pb2.TensorProto.FLOAT))
        acc = as_float[0]
        for n in as_float[1:]:
            acc = ctx.op("Add", [acc, n], [ctx.tmp("broadcast_probe")])
        shape_blob = ctx.op("Shape", [acc], [ctx.tmp("broadcast_shape")])
        shapes = [None] * len(names)
    out = []
    for n, s in zip(names, shapes):
        if s is not None and s == target:
            out.append(n)
        elif ctx.elem_type(n) == 9:  # Expand has no bool kernel: through int32
            as_int = ctx.op("Cast", [n], [ctx.tmp(n + "_int")], to=caffe2_pb2.TensorProto.INT32)
            wide = ctx.op("Expand", [as_int, shape_blob], [ctx.tmp(n + "_expanded")])
            out.append(ctx.op("Cast", [wide], [ctx.tmp(n + "_expanded")],
                              to=caffe2_pb2.TensorProto.BOOL))
        else:
            out.append(ctx.op("Expand", [n, shape_blob], [ctx.tmp(n + "_expanded")]))
    return out


@converter("Pow")
def _pow(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, e = node.input[0], node.input[1]
    xt, et = ctx.elem_type(x), ctx.elem_type(e)
    if xt in (6, 7):  # Caffe2's Pow is float only: in double, then back (truncating)
        xd = ctx.op("Cast", [x], [ctx.tmp(x + "_double")], to=ONNX_TO_CAFFE2[11])
        ed = ctx.op("Cast", [e], [ctx.tmp(e + "_double")], to=ONNX_TO_CAFFE2[11])
        yd = ctx.op("Pow", broadcast_all(ctx, [xd, ed]), [ctx.tmp(node.output[0] + "_double")])
        ctx.op("Cast", [yd], [node.output[0]], to=ONNX_TO_CAFFE2[xt])
        return
    if xt in (1, 11) and et is not None and et != xt:  # the exponent in X's type
        e = ctx.op("Cast", [e], [ctx.tmp(e + "_as_base")], to=ONNX_TO_CAFFE2[xt])
    ev = ctx.const(e)
    if ev is not None and ev.size == 1 and ev.ndim <= (ctx.rank(x) or 0):
        ctx.op("Pow", [x], [node.output[0]], exponent=float(ev.reshape(-1)[0]))
        return
    ctx.op("Pow", broadcast_all(ctx, [x, e]), [node.output[0]])


@converter("Sum", "Mean", "Max", "Min")
def _variadic(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    inputs = list(node.input)
    if node.op_type in ("Sum", "Mean"):
        acc = inputs[0]
        if len(inputs) == 1:
            acc = ctx.op("Copy", [acc], [ctx.tmp(node.output[0] + "_sum")])
        for i, name in enumerate(inputs[1:]):
            last = i == len(inputs) - 2 and node.op_type == "Sum"
            out = node.output[0] if last else ctx.tmp(node.output[0] + "_sum")
            acc = ctx.op("Add", [acc, name], [out])
        if node.op_type == "Mean":
            ctx.op("Scale", [acc], [node.output[0]], scale=1.0 / len(inputs))
        elif len(inputs) == 1:
            ctx.op("Copy", [acc], [node.output[0]])
        return
    elem = ctx.elem_type(inputs[0])
    inputs = broadcast_all(ctx, inputs)
    if elem in (1, 11, None):
        ctx.op(node.op_type, inputs, [node.output[0]])
        return
    # Caffe2's Max and Min take floats only: pick with GT / LT and Where.
    pick = "GT" if node.op_type == "Max" else "LT"
    acc = inputs[0]
    if len(inputs) == 1:
        ctx.op("Copy", [acc], [node.output[0]])
    for k, name in enumerate(inputs[1:]):
        out = node.output[0] if k == len(inputs) - 2 else ctx.tmp(node.output[0] + "_acc")
        better = ctx.op(pick, [acc, name], [ctx.tmp(node.output[0] + "_pick")])
        acc = ctx.op("Where", [better, acc, name], [out])


@converter("Clip")
def _clip(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    if ctx.opset < 11:
        lo, hi = attrs.get("min"), attrs.get("max")
    else:
        lo = hi = None
        bounds = [b if b else "" for b in list(node.input[1:3]) + ["", ""]][:2]
        if any(b and ctx.const(b) is None for b in bounds):
            # computed bounds: Max then Min (which need equal shapes: broadcast)
            x = node.input[0]
            for k, (b, op) in enumerate(zip(bounds, ("Max", "Min"))):
                if b:
                    last = k == 1 or not bounds[1]
                    out = node.output[0] if last else ctx.tmp(x + "_clipped")
                    x = ctx.op(op, broadcast_all(ctx, [x, b]), [out])
            return
        # every given bound is a constant here (computed ones returned above)
        if bounds[0]:
            lo = float(ctx.need_const(bounds[0], "Clip min").reshape(-1)[0])
        if bounds[1]:
            hi = float(ctx.need_const(bounds[1], "Clip max").reshape(-1)[0])
    ctx.op("Clip", [node.input[0]], [node.output[0]],
           min=None if lo is None else float(lo), max=None if hi is None else float(hi))


@converter("Cast")
def _cast(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    to = int(attrs["to"])
    if to not in ONNX_TO_CAFFE2:
        raise Unsupported(f"to={to}")
    src = ctx.elem_type(node.input[0])
    if src is not None and src not in ONNX_TO_CAFFE2:
        raise Unsupported(f"from type {src}")
    if src == 10 and to == 1:  # Caffe2's Cast has no float16 kernel: its own ops
        ctx.op("HalfToFloat", [node.input[0]], [node.output[0]])
    elif src == 1 and to == 10:
        ctx.op("FloatToHalf", [node.input[0]], [node.output[0]])
    elif src == 10 or to == 10:
        raise Unsupported("float16 to or from a type other than float")
    else:
        ctx.op("Cast", [node.input[0]], [node.output[0]], to=ONNX_TO_CAFFE2[to])


@converter("IsNaN")
def _is_nan(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op("NE", [node.input[0], node.input[0]], [node.output[0]])  # only NaN != NaN


@converter("IsInf")
def _is_inf(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    pos, neg = attrs.get("detect_positive", 1), attrs.get("detect_negative", 1)
    x = node.input[0]
    if pos and neg:
        x = ctx.op("Abs", [x], [ctx.tmp(x + "_abs")])
    if not pos and not neg:
        inf = ctx.constant(np.array(np.nan, np.float32), "nan")  # never equal
    else:
        inf = ctx.constant(np.array(np.inf if pos else -np.inf, np.float32), "inf")
    ctx.op("EQ", [x, inf], [node.output[0]])


@converter("Mod")
def _mod(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    divisor = ctx.const(node.input[1])
    if divisor is None or divisor.size != 1 or divisor.dtype.kind not in "iu":
        raise Unsupported("a divisor that is not one constant integer")
    # fmod=0: the result takes the divisor's sign (Caffe2's sign_follow_divisor).
    ctx.op("Mod", [node.input[0]], [node.output[0]], divisor=int(divisor.reshape(-1)[0]),
           sign_follow_divisor=int(not attrs.get("fmod", 0)))


@converter("PRelu")
def _prelu(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, slope = node.input[0], node.input[1]
    sv, xs = ctx.const(slope), ctx.shape(x)
    if sv is not None and xs is not None and len(xs) >= 2:
        channels = xs[1]
        # Caffe2's PRelu: one slope, or one per channel (dimension 1, NCHW).
        per_channel = (sv.size == channels and sv.ndim <= len(xs) - 1
                       and sv.shape[:1] == (channels,) and all(d == 1 for d in sv.shape[1:])
                       and sv.ndim == len(xs) - 1)
        if sv.size == 1 or per_channel:
            flat = ctx.constant(sv.reshape(-1), slope + "_flat")
            ctx.op("PRelu", [x, flat], [node.output[0]])
            return
    # Any other unidirectional broadcast: where(X < 0, X * slope, X).
    zero = ctx.constant(np.zeros((), np.float32), "zero")
    neg = ctx.op("LT", [x, zero], [ctx.tmp(x + "_negative")])
    scaled = ctx.op("Mul", [x, slope], [ctx.tmp(x + "_scaled")])
    ctx.op("Where", [neg, scaled, x], [node.output[0]])


@converter("Where")
def _where(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op("Where", broadcast_all(ctx, list(node.input[:3])), [node.output[0]])
