"""ONNX convolution, pooling, normalisation, matrix and softmax ops -> caffe2lite."""

from __future__ import annotations

from typing import Any

from caffe2lite.onnx._import_context import (
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
)


def _text(value: Any, default: str) -> str:
    if value is None:
        return default
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _used_outputs(node: Any) -> list[str]:
    return [o for o in node.output[1:] if o]


def _window(ctx: ImportContext, node: Any, attrs: dict[str, Any], kernel: list[int]) -> dict:
    """Caffe2's kernels/strides/dilations/pads for an ONNX window op (pads are
    begin..., end... in both), with auto_pad resolved from the inferred input shape."""
    n = len(kernel)
    strides = list(attrs.get("strides") or [1] * n)
    dilations = list(attrs.get("dilations") or [1] * n)
    pads = list(attrs.get("pads") or [0] * (2 * n))
    auto = _text(attrs.get("auto_pad"), "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        shape = ctx.static_shape(node.input[0])
        if shape is None:
            raise Unsupported(f"auto_pad={auto} on an input of unknown shape")
        pads = [0] * (2 * n)
        for i in range(n):
            size = shape[2 + i]
            out = -(-size // strides[i])
            total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - size)
            small, big = total // 2, total - total // 2
            pads[i], pads[n + i] = (small, big) if auto == "SAME_UPPER" else (big, small)
    elif auto == "VALID":
        pads = [0] * (2 * n)
    elif auto != "NOTSET":
        raise Unsupported(f"auto_pad={auto}")
    return {"kernels": kernel, "strides": strides, "dilations": dilations, "pads": pads}


@converter("Conv")
def _conv(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    kernel = attrs.get("kernel_shape")
    if kernel is None:
        w = ctx.shape(node.input[1])
        if w is None or any(d is None for d in w[2:]):
            raise Unsupported("a filter of unknown shape and no kernel_shape")
        kernel = w[2:]
    args = _window(ctx, node, attrs, list(kernel))
    inputs = [i for i in node.input if i]
    ctx.op("Conv", inputs, [node.output[0]], group=int(attrs.get("group", 1)), **args)


@converter("ConvTranspose")
def _conv_transpose(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    if "output_shape" in attrs:
        raise Unsupported("output_shape")
    rank = ctx.rank(node.input[0])
    if rank is not None and rank != 4:
        raise Unsupported(f"a {rank}-D input (caffe2lite's ConvTranspose is 2-D only)")
    kernel = attrs.get("kernel_shape")
    if kernel is None:
        w = ctx.shape(node.input[1])
        if w is None or any(d is None for d in w[2:]):
            raise Unsupported("a filter of unknown shape and no kernel_shape")
        kernel = w[2:]
    args = _window(ctx, node, attrs, list(kernel))
    if _text(attrs.get("auto_pad"), "NOTSET") not in ("NOTSET", "VALID"):
        raise Unsupported("auto_pad=" + _text(attrs.get("auto_pad"), ""))
    if any(d != 1 for d in args.pop("dilations")):
        raise Unsupported("dilations other than 1")
    adjs = list(attrs.get("output_padding") or [0] * len(kernel))
    inputs = [i for i in node.input if i]
    ctx.op("ConvTranspose", inputs, [node.output[0]], group=int(attrs.get("group", 1)),
           adjs=adjs, **args)


def _ceil_extra(ctx: ImportContext, node: Any, args: dict) -> list[int]:
    """Extra end padding that makes Caffe2's floor output size equal ONNX's ceil_mode
    size (a last window must still start inside the input or its begin padding)."""
    shape = ctx.static_shape(node.input[0])
    if shape is None:
        raise Unsupported("ceil_mode=1 on an input of unknown shape")
    n = len(args["kernels"])
    pads = args["pads"]
    extra = []
    for i in range(n):
        size, s = shape[2 + i], args["strides"][i]
        k = (args["kernels"][i] - 1) * args["dilations"][i] + 1
        span = size + pads[i] + pads[n + i] - k
        out = -(-span // s) + 1
        if (out - 1) * s >= size + pads[i]:
            out -= 1
        extra.append(max(0, (out - 1) * s + k - (size + pads[i] + pads[n + i])))
    return extra


def _pool(ctx: ImportContext, node: Any, attrs: dict[str, Any], c2_type: str) -> None:
    if _used_outputs(node):
        raise Unsupported("the Indices output")
    if attrs.get("storage_order", 0):
        raise Unsupported("storage_order=1")
    args = _window(ctx, node, attrs, list(attrs["kernel_shape"]))
    if c2_type == "AveragePool":
        args["count_include_pad"] = int(attrs.get("count_include_pad", 0))
    if attrs.get("ceil_mode", 0):
        if args.get("count_include_pad"):
            raise Unsupported("ceil_mode=1 with count_include_pad=1")
        n = len(args["kernels"])
        extra = _ceil_extra(ctx, node, args)
        args["pads"] = args["pads"][:n] + [p + e for p, e in zip(args["pads"][n:], extra)]
    if any(d != 1 for d in args["dilations"]):
        if c2_type != "MaxPool":
            raise Unsupported("dilations other than 1")
    else:
        args.pop("dilations")
    ctx.op(c2_type, [node.input[0]], [node.output[0]], **args)


@converter("MaxPool")
def _max_pool(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    _pool(ctx, node, attrs, "MaxPool")


@converter("AveragePool")
def _average_pool(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    _pool(ctx, node, attrs, "AveragePool")


@converter("GlobalMaxPool", "GlobalAveragePool")
def _global_pool(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    c2 = "MaxPool" if node.op_type == "GlobalMaxPool" else "AveragePool"
    ctx.op(c2, [node.input[0]], [node.output[0]], global_pooling=1)


@converter("Gemm")
def _gemm(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    a, b = node.input[0], node.input[1]
    c = node.input[2] if len(node.input) > 2 and node.input[2] else ""
    trans_a, trans_b = int(attrs.get("transA", 0)), int(attrs.get("transB", 0))
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    b_shape, c_shape = ctx.shape(b), ctx.shape(c) if c else None
    if (c and not trans_a and trans_b and alpha == 1.0 and beta == 1.0
            and b_shape is not None and len(b_shape) == 2 and c_shape is not None
            and len(c_shape) == 1 and b_shape[0] is not None and c_shape[0] == b_shape[0]):
        ctx.op("FC", [a, b, c], [node.output[0]])
        return
    product = node.output[0] if not c and alpha == 1.0 else ctx.tmp(node.output[0] + "_ab")
    ctx.op("MatMul", [a, b], [product], trans_a=trans_a, trans_b=trans_b)
    if alpha != 1.0:
        out = node.output[0] if not c else ctx.tmp(node.output[0] + "_alpha_ab")
        product = ctx.op("Scale", [product], [out], scale=alpha)
    if c:
        if beta != 1.0:
            c = ctx.op("Scale", [c], [ctx.tmp(c + "_beta")], scale=beta)
        ctx.op("Add", [product, c], [node.output[0]])


@converter("MatMul")
def _matmul(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    a, b = node.input[0], node.input[1]
    if ctx.rank(a) == 2 and ctx.rank(b) == 2:
        ctx.op("MatMul", [a, b], [node.output[0]])
    elif ctx.rank(a) == 1 and ctx.rank(b) == 1:  # a dot product: 0-d, as numpy
        dot = ctx.op("BatchMatMul", [a, b], [ctx.tmp(node.output[0] + "_dot")], broadcast=1)
        ctx.op("Squeeze", [dot], [node.output[0]], dims=[0])
    else:
        ctx.op("BatchMatMul", [a, b], [node.output[0]], broadcast=1)


@converter("BatchNormalization")
def _batch_norm(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    if _used_outputs(node) or attrs.get("training_mode", 0):
        raise Unsupported("training mode (running statistics outputs)")
    if not attrs.get("spatial", 1):
        raise Unsupported("spatial=0")
    ctx.op("SpatialBN", list(node.input[:5]), [node.output[0]], is_test=1,
           epsilon=float(attrs.get("epsilon", 1e-5)))


@converter("InstanceNormalization")
def _instance_norm(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op("InstanceNorm", list(node.input[:3]), [node.output[0]],
           epsilon=float(attrs.get("epsilon", 1e-5)))


@converter("LayerNormalization")
def _layer_norm(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, out = node.input[0], node.output[0]
    scale = node.input[1] if len(node.input) > 1 else ""
    bias = node.input[2] if len(node.input) > 2 else ""
    axis = int(attrs.get("axis", -1))
    rank = ctx.rank(x)
    if rank is not None:
        axis = canon_axis(axis, rank)
    extra = list(node.output[1:3]) + [""] * (3 - len(node.output))
    if any(extra) and rank is None:
        raise Unsupported("the Mean / InvStdDev outputs of an input of unknown rank")
    normed = ctx.tmp(out + "_normalized") if scale or bias else out
    mean, std = ctx.tmp(out + "_mean"), ctx.tmp(out + "_std")
    ctx.op("LayerNorm", [x], [normed, mean, std], axis=axis,
           epsilon=float(attrs.get("epsilon", 1e-5)))
    if any(extra):  # Caffe2 keeps one trailing 1; ONNX keeps every reduced dimension
        assert rank is not None  # refused above when unknown
        dims = [0] * axis + [1] * (rank - axis)
        if extra[0]:
            ctx.op("Reshape", [mean], [extra[0], ctx.tmp(out + "_old_shape")], shape=dims)
        if extra[1]:
            inv = ctx.op("Reciprocal", [std], [ctx.tmp(out + "_inv_std")])
            ctx.op("Reshape", [inv], [extra[1], ctx.tmp(out + "_old_shape")], shape=dims)
    if scale:
        normed = ctx.op("Mul", [normed, scale], [out if not bias else ctx.tmp(out + "_scaled")])
    if bias:
        ctx.op("Add", [normed, bias], [out])


def _softmax_axis(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> tuple[int, list[int] | None]:
    """The Caffe2 Softmax axis, and the transpose around it that opset >= 13 needs."""
    x = node.input[0]
    if ctx.opset < 13:  # ONNX coerced the input to 2-D at axis, exactly as Caffe2 does
        axis = int(attrs.get("axis", 1))
        return (canon_axis(axis, ctx.need_rank(x, "a negative axis")) if axis < 0
                else axis), None
    axis = int(attrs.get("axis", -1))
    rank = ctx.rank(x)
    if rank is None:
        if axis == -1:
            return -1, None
        raise Unsupported("an input of unknown rank with axis other than -1")
    axis = canon_axis(axis, rank)
    if axis == rank - 1:
        return axis, None
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return rank - 1, perm


def _softmax_into(ctx: ImportContext, node: Any, attrs: dict[str, Any], out: str) -> None:
    axis, perm = _softmax_axis(ctx, node, attrs)
    if perm is None:
        ctx.op("Softmax", [node.input[0]], [out], axis=axis)
        return
    moved = ctx.op("Transpose", [node.input[0]], [ctx.tmp(out + "_moved")], axes=perm)
    soft = ctx.op("Softmax", [moved], [ctx.tmp(out + "_softmax")], axis=axis)
    ctx.op("Transpose", [soft], [out], axes=perm)


@converter("Softmax")
def _softmax(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    _softmax_into(ctx, node, attrs, node.output[0])


@converter("LogSoftmax")
def _log_softmax(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    soft = ctx.tmp(node.output[0] + "_softmax")
    _softmax_into(ctx, node, attrs, soft)
    ctx.op("Log", [soft], [node.output[0]])


@converter("LRN")
def _lrn(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op("LRN", [node.input[0]], [node.output[0]], size=int(attrs["size"]),
           alpha=float(attrs.get("alpha", 1e-4)), beta=float(attrs.get("beta", 0.75)),
           bias=float(attrs.get("bias", 1.0)))


@converter("Dropout")
def _dropout(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    if len(node.input) > 2 and node.input[2]:
        mode = ctx.need_const(node.input[2], "training_mode")
        if bool(mode.reshape(-1)[0]):
            raise Unsupported("training_mode=True")
    if ctx.opset < 7 and not attrs.get("is_test", 0) and len(node.output) > 1:
        raise Unsupported("is_test=0 with a mask output")
    outs = [o for o in node.output if o]
    ctx.op("Dropout", [node.input[0]], outs, is_test=1)
