"""ONNX shape, indexing, reduction and constant ops -> caffe2lite operators."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._import_context import (
    ONNX_TO_CAFFE2,
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
    fill_ops,
    ints_of,
)


def node_axes(ctx: ImportContext, node: Any, attrs: dict[str, Any], input_index: int) -> list[int] | None:
    """The ``axes`` of a node: its attribute (older opsets) or its constant input."""
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    if len(node.input) > input_index and node.input[input_index]:
        return ints_of(ctx.need_const(node.input[input_index], "axes"))
    return None


@converter("Constant")
def _constant(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
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
def _constant_of_shape(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
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
def _reshape(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
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
def _flatten(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    axis = int(attrs.get("axis", 1))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    ctx.op("Flatten", [node.input[0]], [node.output[0]], axis=axis)


@converter("Transpose")
def _transpose(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    perm = attrs.get("perm")
    ctx.op("Transpose", [node.input[0]], [node.output[0]],
           axes=None if perm is None else [int(p) for p in perm])


@converter("Squeeze")
def _squeeze(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x = node.input[0]
    axes = node_axes(ctx, node, attrs, 1)
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
def _unsqueeze(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x = node.input[0]
    axes = node_axes(ctx, node, attrs, 1)
    if axes is None:
        raise Unsupported("no axes")
    if any(a < 0 for a in axes):
        rank = ctx.need_rank(x, "a negative axis") + len(axes)
        axes = [canon_axis(a, rank) for a in axes]
    ctx.op("ExpandDims", [x], [node.output[0]], dims=sorted(axes))


@converter("Concat")
def _concat(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    axis = int(attrs.get("axis", 1))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    ctx.op("Concat", list(node.input), [node.output[0]], axis=axis)


@converter("Split")
def _split(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
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
def _gather(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    axis = int(attrs.get("axis", 0))
    if axis < 0:
        axis = canon_axis(axis, ctx.need_rank(node.input[0], "a negative axis"))
    # ONNX allows negative indices (counted from the end): Caffe2's wrap_indices.
    ctx.op("Gather", list(node.input[:2]), [node.output[0]], axis=axis, wrap_indices=1)


@converter("Shape")
def _shape(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    _shape_ops(ctx, node, attrs)
    dims = ctx.static_shape(node.input[0])
    if dims is not None:  # known before running: later converters may read it
        rank = len(dims)
        start, end = int(attrs.get("start", 0)), int(attrs.get("end", rank))
        start = min(max(start + rank if start < 0 else start, 0), rank)
        end = min(max(end + rank if end < 0 else end, 0), rank)
        ctx.consts[node.output[0]] = np.array(dims[start:max(start, end)], np.int64)


def _shape_ops(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
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
def _size(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op("Size", [node.input[0]], [node.output[0]])


@converter("Expand")
def _expand(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    x, out = node.input[0], node.output[0]
    if ctx.elem_type(x) != 9:
        ctx.op("Expand", [x, node.input[1]], [out])
        return
    # Caffe2's Expand has no bool kernel: through int32
    as_int = ctx.op("Cast", [x], [ctx.tmp(x + "_int")], to=ONNX_TO_CAFFE2[6])
    wide = ctx.op("Expand", [as_int, node.input[1]], [ctx.tmp(out + "_int")])
    ctx.op("Cast", [wide], [out], to=ONNX_TO_CAFFE2[9])


@converter("Tile")
def _tile(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    ctx.op("NumpyTile", list(node.input[:2]), [node.output[0]])
