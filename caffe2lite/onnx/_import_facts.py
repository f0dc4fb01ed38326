"""What an import learns about values as it goes, beyond ONNX's own shape inference.

After each node is converted, :func:`learn` adds two kinds of facts to the context:

- the shapes and element types of the blobs its Caffe2 ops produce, from caffe2lite's
  own shape functions (:func:`caffe2lite.inference.infer_op`), wherever ONNX shape
  inference left them unknown (after a Reshape to a computed shape, say);
- the values of its outputs when all its inputs are small known constants (shape
  arithmetic: Shape -> Gather -> Concat -> a Reshape's shape; Range -> axes), found by
  running the Caffe2 ops just emitted for it on those constants.

The ops stay in the predict net either way: this only lets later converters read
shapes and constant inputs they would otherwise have to refuse.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.onnx._import_context import ONNX_NUMPY, ImportContext
from caffe2lite.schema.shapes import TensorShape

_ONNX_OF = {np.dtype(v): k for k, v in ONNX_NUMPY.items()}


def learn(ctx: ImportContext, node: Any, first: int) -> None:
    """Facts from the ops ``ctx.ops[first:]`` emitted for ``node``."""
    _learn_shapes(ctx, first)
    _fold(ctx, node, first)


def _tensor_shape(ctx: ImportContext, name: str) -> TensorShape:
    value = ctx.const(name)
    if value is not None:
        return TensorShape(value.shape, value.dtype)
    dims = ctx.shape(name)
    elem = ctx.elem_type(name)
    scalar = ONNX_NUMPY.get(elem) if elem is not None else None
    dtype = None if scalar is None else np.dtype(scalar)  # as TensorShape would make it
    if dims is not None:  # unknown sizes as symbols of their own, never equal
        dims = tuple(f"{name}:{i}" if d is None else d for i, d in enumerate(dims))
    return TensorShape(dims, dtype)


def _learn_shapes(ctx: ImportContext, first: int) -> None:
    from caffe2lite.inference import infer_op

    for op in ctx.ops[first:]:
        try:
            outs = infer_op(op, [_tensor_shape(ctx, n) for n in op.input])
        except Caffe2LiteError:
            return
        for name, shape in zip(op.output, outs):
            known = ctx.value_types.get(name)
            if known is not None and known[0] is not None and known[1]:
                continue  # ONNX's inference knew it: it has the last word
            dims = None if shape.dims is None else tuple(
                d if isinstance(d, int) else None for d in shape.dims)
            elem = _ONNX_OF.get(shape.dtype) if shape.dtype is not None else None
            if known is not None:
                dims = known[0] if dims is None else dims
                elem = known[1] or elem
            if dims is not None or elem:
                ctx.value_types[name] = (dims, elem or 0)


_FOLD_LIMIT = 4096  # elements: shape arithmetic, not data
# Ops whose outputs are no bigger than their inputs allow (broadcasting aside), so
# running them on small constants is safe even when their output shape is unknown.
_SIZE_BOUNDED = {
    "Shape", "Size", "Gather", "Concat", "Unsqueeze", "Squeeze", "Slice", "Cast",
    "Reshape", "Flatten", "Transpose", "Identity", "Split", "Add", "Sub", "Mul", "Div",
    "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or",
    "Where", "Neg", "Abs", "Min", "Max", "Sum", "Clip", "Floor", "Ceil", "ReduceSum",
    "ReduceMax", "ReduceMin", "ReduceMean", "ReduceProd", "ArgMax", "ArgMin",
}


def _small_enough(ctx: ImportContext, node: Any) -> bool:
    """Whether running ``node`` on its constants cannot make a large array."""
    shapes = [ctx.shape(o) for o in node.output if o]
    known = [s for s in shapes if s is not None and None not in s]
    if len(known) == len(shapes):
        return all(int(np.prod(s, dtype=np.int64)) <= _FOLD_LIMIT for s in known)
    if node.op_type == "Range":
        # _fold calls this only when every input is a constant
        start, limit, delta = (float(ctx.need_const(n, "Range").reshape(-1)[0])
                               for n in node.input[:3])
        return delta != 0 and np.ceil((limit - start) / delta) <= _FOLD_LIMIT
    return node.op_type in _SIZE_BOUNDED


def _fold(ctx: ImportContext, node: Any, first: int) -> None:
    """The values of ``node``'s outputs when its inputs are all small constants."""
    inputs = [n for n in node.input if n]
    if node.op_type == "Constant" or not inputs:
        return
    input_values = [ctx.const(n) for n in inputs]
    if any(v is None or v.size > _FOLD_LIMIT for v in input_values):
        return
    if not _small_enough(ctx, node):
        return
    from caffe2lite.runtime.workspace import Workspace

    ws = Workspace()
    try:
        for op in ctx.ops[first:]:
            for name in op.input:
                if name in ctx.consts and not ws.has_blob(name):
                    ws.feed_blob(name, ctx.consts[name])
            ws.run_operator_once(op)
        values = {o: np.asarray(ws.fetch_blob(o)) for o in node.output if o}
    except Caffe2LiteError:  # it fails again when the net runs, with its context
        return
    for name, value in values.items():
        if value.size <= _FOLD_LIMIT and name not in ctx.consts:
            ctx.consts[name] = value
