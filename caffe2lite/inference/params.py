"""Make a net runnable without its weights: input shapes from a model zoo
``value_info.json``, and random parameters of the shapes the ops imply.

A parameter is a blob the net reads that nothing in it produces and that is not one
of its data inputs. Walking the ops in order with shape inference, each parameter
gets the shape its op implies from the shapes already known (a Conv filter is
(M, C / group, *kernel) with C from the op's input; SpatialBN's scale, bias, mean and
var have C values; an FC weight is (N, K) with K from the input ...). Dimensions the
predict net alone does not fix (a Conv's or FC's number of outputs) all take one
size, ``free_dim``; since every such choice is the same, branches that are summed
later agree. A grouped Conv (a depthwise one has group = channels) fixes the number of
outputs of the Convs that feed it, through channel-preserving ops (Relu, SpatialBN,
Sum, ...): those take the group count instead, and so does the grouped Conv's own
number of outputs; box-delta inputs of the detection ops take 4 (5 rotated) per
anchor or class. Parameters of the nets inside If/While arguments are made too. An
Int8 op's filter is a uint8 Int8 tensor (zero point 128) standing for the float
filter it would get, its bias int32 (zero point 0). Values come from a seeded
generator, scaled so that activations stay finite through deep nets (He-style filters, variances near 1).

>>> from caffe2lite import core
>>> net = core.Net("n"); _ = net.FC(["X", "W", "b"], "Y")
>>> import numpy as np
>>> params = random_parameters(net.Proto(), {"X": TensorShape((2, 5), np.float32)}, free_dim=3)
>>> {k: v.shape for k, v in params.items()}
{'W': (3, 5), 'b': (3,)}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Sequence, cast

import numpy as np

from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.inference import infer_op
from caffe2lite.io.arguments import argument_value
from caffe2lite.io.tensor import DTYPES
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.shapes import UNKNOWN, TensorShape


class ParameterShapeError(Caffe2LiteError):
    """A parameter's shape cannot be told from the net and the known shapes."""


def load_value_info(path: str | Path) -> dict[str, TensorShape]:
    """Read a model zoo ``value_info.json``: ``{input: [TensorProto data type, shape]}``."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise ProtoParseError(f"cannot read {path}: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except ValueError:
        hint = (" (it is a Git LFS pointer, not the file itself)"
                if text.startswith("version https://git-lfs") else "")
        raise ProtoParseError(f"{path} is not a value_info JSON file{hint}",
                              expected='{"input": [data_type, [dims...]]}',
                              found=text[:60]) from None
    if not isinstance(data, dict):
        raise ProtoParseError(f"{path}: value_info must be a JSON object",
                              expected='{"input": [data_type, [dims...]]}', found=type(data).__name__)
    shapes = {}
    for name, spec in data.items():
        ok = (isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], int)
              and isinstance(spec[1], list) and all(isinstance(d, int) and d >= 0 for d in spec[1]))
        if not ok or spec[0] not in DTYPES:
            raise ProtoParseError(f"{path}: entry '{name}' must be [data_type, [dims...]]",
                                  expected="a known TensorProto data type and non-negative dims",
                                  found=repr(spec))
        shapes[name] = TensorShape(tuple(spec[1]), DTYPES[spec[0]])
    return shapes


def random_inputs(shapes: dict[str, TensorShape], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random data of the given shapes and types (standard normal floats, small ints)."""
    out = {}
    for name, shape in shapes.items():
        dims = cast("tuple[int, ...]", shape.dims)  # known: the caller checked
        if shape.dtype is not None and np.issubdtype(shape.dtype, np.floating):
            out[name] = rng.standard_normal(dims).astype(shape.dtype)
        elif shape.dtype == np.bool_:
            out[name] = rng.random(dims) < 0.5
        else:
            out[name] = rng.integers(0, 4, dims).astype(shape.dtype or np.int64)
    return out


def _args(op: caffe2_pb2.OperatorDef) -> dict[str, Any]:
    return {a.name: argument_value(a) for a in op.arg}


def _kernel(args: dict[str, Any], nd: int) -> list[int] | None:
    if "kernel" in args:
        return [int(args["kernel"])] * 2
    if "kernel_h" in args and "kernel_w" in args:
        return [int(args["kernel_h"]), int(args["kernel_w"])]
    if "kernels" in args:
        return [int(k) for k in args["kernels"]]
    return None


# The rules get TensorShapes whose dims are all known ints (typed Any for that).
def _conv(op: caffe2_pb2.OperatorDef, shapes: Sequence[Any], free: int) -> dict[int, tuple[int, ...]]:
    x = shapes[0]
    args = _args(op)
    order = args.get("order", b"NCHW")
    order = order.decode() if isinstance(order, bytes) else order
    group = int(args.get("group", 1))
    nd = len(x.dims) - 2
    kernel = _kernel(args, nd)
    if kernel is None:
        return {}
    c = x.dims[1] if order == "NCHW" else x.dims[-1]
    if op.type == "ConvTranspose":
        w = (c, free // group, *kernel) if order == "NCHW" else (c, *kernel, free // group)
        m = (free // group) * group
    else:
        w = (free, c // group, *kernel) if order == "NCHW" else (free, *kernel, c // group)
        m = free
    return {1: w, 2: (m,)}


def _channels(op: caffe2_pb2.OperatorDef, shapes: Sequence[Any], free: int) -> dict[int, tuple[int, ...]]:
    x = shapes[0]
    order = _args(op).get("order", b"NCHW")
    order = order.decode() if isinstance(order, bytes) else order
    c = x.dims[1] if order == "NCHW" else x.dims[-1]
    return {i: (c,) for i in range(1, len(op.input))}


def _fc(op: caffe2_pb2.OperatorDef, shapes: Sequence[Any], free: int) -> dict[int, tuple[int, ...]]:
    x = shapes[0]
    axis = int(_args(op).get("axis", 1))
    axis = axis + len(x.dims) if axis < 0 else axis
    k = int(np.prod(x.dims[axis:]))
    if op.type == "FCTransposed":
        return {1: (k, free), 2: (free,)}
    # W is read as (N, K) flattened at axis_w: old Caffe nets keep 4-D (1, 1, N, K)
    # weights with axis_w = 3.
    axis_w = int(_args(op).get("axis_w", 1))
    lead = (1,) * max(axis_w - 1, 0)
    return {1: lead + (free, k), 2: (free,)}


def _like_other(op: caffe2_pb2.OperatorDef, shapes: Sequence[Any], free: int) -> dict[int, tuple[int, ...]]:
    """Element-wise ops: a parameter has the other input's shape, or, with Caffe2's
    legacy ``broadcast=1``, one value per entry of the dimension at ``axis`` (the last
    dimension when no axis is given), as folded batch norms use it."""
    known = next((s for s in shapes if s.known), None)
    args = _args(op)
    if known is None and args.get("broadcast"):
        # the data input with a symbolic dimension still fixes the broadcast axis
        known = next((s for s in shapes if s.dims is not None), None)
    if known is None:
        return {}
    if args.get("broadcast") and known.dims:
        axis = int(args.get("axis", len(known.dims) - 1))
        axis = axis + len(known.dims) if axis < 0 else axis
        dims: tuple[int, ...] = (known.dims[axis],)
    else:
        dims = known.dims
    return {i: dims for i, s in enumerate(shapes) if not s.known}


def _prelu(op: caffe2_pb2.OperatorDef, shapes: Sequence[Any], free: int) -> dict[int, tuple[int, ...]]:
    return _channels(op, shapes, free)


def _layer_norm(op: caffe2_pb2.OperatorDef, shapes: Sequence[Any], free: int) -> dict[int, tuple[int, ...]]:
    x = shapes[0]
    axis = int(_args(op).get("axis", 1))
    axis = axis + len(x.dims) if axis < 0 else axis
    return {1: tuple(x.dims[axis:]), 2: tuple(x.dims[axis:])}


RULES: dict[str, Callable[..., dict[int, tuple[int, ...]]]] = {
    **{t: _conv for t in ("Conv", "Conv1D", "Conv2D", "Conv3D", "ConvRelu", "ConvTranspose")},
    **{t: _channels for t in ("SpatialBN", "AffineChannel", "GroupNorm", "InstanceNorm")},
    **{t: _conv for t in ("Int8Conv", "Int8ConvRelu", "Int8ConvTranspose")},
    "PRelu": _prelu,
    "FC": _fc, "FCTransposed": _fc, "Int8FC": _fc,
    "LayerNorm": _layer_norm,
    **{t: _like_other for t in ("Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean")},
}


def _values(op_type: str, index: int, shape: tuple[int, ...], rng: np.random.Generator,
            dtype: np.dtype) -> np.ndarray:
    if op_type == "SpatialBN":  # scale, bias, mean, var
        makers: list[Any] = [None, lambda: rng.uniform(0.5, 1.0, shape), lambda: 0.1 * rng.standard_normal(shape),
                lambda: 0.1 * rng.standard_normal(shape),
                  lambda: rng.uniform(0.5, 1.5, shape)]
        return makers[index]().astype(dtype)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[1:])) if op_type != "FCTransposed" else shape[0]
        return (rng.standard_normal(shape) * math.sqrt(2.0 / max(fan_in, 1))).astype(dtype)
    if op_type in ("Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean"):
        return rng.standard_normal(shape).astype(dtype)
    if op_type == "PRelu":
        return np.full(shape, 0.25, dtype)
    if index == 1 and op_type in ("AffineChannel", "GroupNorm", "InstanceNorm", "LayerNorm"):
        return rng.uniform(0.5, 1.0, shape).astype(dtype)
    return (0.1 * rng.standard_normal(shape)).astype(dtype)


def _int8(value: np.ndarray, index: int, rng: np.random.Generator) -> Any:
    """An Int8 op's parameter: a uint8 filter (zero point 128) whose values stand for
    ``value``, or an int32 bias (zero point 0) of small accumulator units."""
    from caffe2lite.io.int8 import Int8Tensor

    if index == 1:
        scale = float(np.float32(max(float(np.abs(value).max()), 1e-6) / 127.0))
        q = np.clip(np.rint(value / scale) + 128, 0, 255).astype(np.uint8)
        return Int8Tensor(q, scale, 128)
    return Int8Tensor(rng.integers(-64, 65, value.shape).astype(np.int32), 1.0, 0)


def _wanted(rule: Callable[..., dict[int, tuple[int, ...]]], op: caffe2_pb2.OperatorDef,
            shapes: list[TensorShape], free: int) -> dict[int, tuple[int, ...]]:
    """The parameter shapes ``rule`` implies, keeping only fully numeric ones: the
    data input may have symbolic dimensions (a batch of RoIs ``n``) the parameters do
    not depend on, such as a Conv's weights after a RoI op."""
    if shapes[0].dims is None:
        return {}
    try:
        wanted = rule(op, shapes, free)
    except (TypeError, ValueError, IndexError):  # a needed dimension is symbolic
        return {}
    return {i: tuple(int(d) for d in dims) for i, dims in wanted.items()
            if all(isinstance(d, (int, np.integer)) for d in dims)}


CONV_TYPES = ("Conv", "Conv1D", "Conv2D", "Conv3D", "ConvRelu", "Int8Conv", "Int8ConvRelu")
# Ops whose output has the channels of their data input(s), walked back from a grouped
# Conv to the Convs whose number of outputs it fixes.
CHANNEL_PRESERVING = frozenset({
    "Relu", "Relu6", "LeakyRelu", "Sigmoid", "Tanh", "Swish", "Elu", "PRelu", "Clip",
    "SpatialBN", "AffineChannel", "GroupNorm", "InstanceNorm", "Dropout", "Copy", "Alias",
    "Sum", "Add", "Sub", "Mul", "Div", "Max", "Min", "Mean", "MaxPool", "AveragePool",
    "LpPool", "ResizeNearest", "UpsampleBilinear", "RoIAlign", "RoIPool",
    "Int8Relu", "Int8Sum", "Int8Add", "Int8SumRelu", "Int8AddRelu", "Int8MaxPool",
    "Int8AveragePool", "Int8ResizeNearest", "Int8RoIAlign", "Int8Quantize",
    "Int8Dequantize", "NHWC2NCHW", "NCHW2NHWC",
})


# Inputs whose channels are a multiple of another input's free count: box deltas
# carry 4 values per anchor or class (5 for rotated boxes) beside the scores.
BOX_DELTAS = {"GenerateProposals": 1, "BBoxTransform": 1, "BoxWithNMSLimit": 1}


# Channel-preserving ops whose other inputs are parameters or boxes, not data.
DATA_FIRST = frozenset({"SpatialBN", "AffineChannel", "GroupNorm", "InstanceNorm", "PRelu",
                        "RoIAlign", "RoIPool"})
DENSE_LAYERS = CONV_TYPES + ("FC", "FCTransposed", "Int8FC")


def _feeding_layers(net: caffe2_pb2.NetDef, sources: list[list[int | None]],
                    start: int | None, layers: tuple[str, ...]) -> set[int]:
    """The ops of type ``layers`` whose output reaches op ``start``'s output through
    channel-preserving ops only (``sources[i]``: the op that wrote each input of op i)."""
    found: set[int] = set()
    todo, seen = [start], set()
    while todo:
        at = todo.pop()
        if at is None or at in seen:
            continue
        seen.add(at)
        source = net.op[at]
        if source.type in layers:
            found.add(at)
        elif source.type in CHANNEL_PRESERVING:
            todo.extend(sources[at][:1] if source.type in DATA_FIRST else sources[at])
    return found


def _group_hints(net: caffe2_pb2.NetDef, free_dim: int = 8) -> dict[int, int]:
    """``{op index: number of outputs}`` for the Convs (and FCs) whose free number of
    outputs something downstream fixes: a grouped Conv (or their own group), or
    box-delta inputs of the detection ops (4 or 5 per anchor or class)."""
    producer: dict[str, int] = {}
    sources: list[list[int | None]] = []  # per op: the op that wrote each input then
    hints: dict[int, int] = {}
    for index, op in enumerate(net.op):
        sources.append([producer.get(b) for b in op.input])
        group = int(_args(op).get("group", 1)) if op.type in CONV_TYPES else 1
        if group > 1:  # M % group == 0 here, and C % group == 0 for what feeds it
            data = sources[index][0] if sources[index] else None
            for at in {index} | _feeding_layers(net, sources, data, CONV_TYPES):
                hints[at] = math.lcm(hints.get(at, free_dim), group)
        if op.type in BOX_DELTAS:
            box_dim = 5 if _args(op).get("rotated") else 4
            deltas = sources[index][BOX_DELTAS[op.type]]
            for at in _feeding_layers(net, sources, deltas, DENSE_LAYERS):
                hints[at] = box_dim * free_dim
        for name in op.output:
            producer[name] = index
    return hints


def random_parameters(
    net: caffe2_pb2.NetDef,
    inputs: dict[str, TensorShape],
    *,
    free_dim: int = 8,
    seed: int = 0,
    exclude: set[str] | None = None,
) -> dict[str, np.ndarray]:
    """Random values for every parameter of ``net``, given its data inputs' shapes.

    Raises :class:`ParameterShapeError` naming the op and the blob when a
    parameter's shape cannot be told."""
    if free_dim < 1:
        raise ParameterShapeError("the free dimension must be positive", expected=">= 1",
                                  found=free_dim)
    rng = np.random.default_rng(seed)
    known: dict[str, TensorShape] = dict(inputs)
    given = set(inputs) | set(exclude or ())
    produced: set[str] = set()
    params: dict[str, Any] = {}
    hints = _group_hints(net, free_dim)
    for index, op in enumerate(net.op):
        unknown = [i for i, b in enumerate(op.input)
                   if b not in given and b not in produced and b not in params]
        if unknown:
            shapes = [known.get(b, UNKNOWN) for b in op.input]
            rule = RULES.get(op.type)
            free = hints.get(index, free_dim)
            wanted = _wanted(rule, op, shapes, free) if rule else {}
            dtype = shapes[0].dtype if shapes[0].dtype is not None else np.dtype(np.float32)
            for i in unknown:
                if i not in wanted:
                    raise ParameterShapeError(
                        f"cannot tell the shape of blob '{op.input[i]}' (input {i} of op "
                        f"#{index} {op.type}) for --random-init",
                        expected="a parameter whose op implies its shape",
                        found=f"inputs {[str(s) for s in shapes]}").add_context(
                            op_type=op.type, op_index=index, net_name=net.name or None)
                int8 = op.type.startswith("Int8")
                value = _values(op.type, i, tuple(int(d) for d in wanted[i]), rng,
                                np.dtype(np.float32) if int8 else dtype)
                if int8:
                    value = _int8(value, i, rng)
                params[op.input[i]] = value
                known[op.input[i]] = TensorShape(value.shape, value.dtype)
        for arg in op.arg:  # If/While/Do nets: their parameters too, from what is known
            for sub in ([arg.n] if arg.HasField("n") else []) + list(arg.nets):
                made = random_parameters(sub, known, free_dim=free_dim, seed=seed + 1 + index,
                                         exclude=given | produced | set(params))
                params.update(made)
                known.update((k, TensorShape(v.shape, v.dtype)) for k, v in made.items())
        try:
            outs = infer_op(op, [known.get(b, UNKNOWN) for b in op.input])
        except Caffe2LiteError as e:
            if not params:
                raise
            raise ParameterShapeError(
                f"op #{index} {op.type} does not accept the shapes --random-init chose "
                f"({e.reason}); give the shapes of the parameters it depends on in "
                "--value-info (as [data type, shape] entries), or another "
                "--random-init-dim", expected="parameter shapes that fit the net",
                found=f"free dimensions of {free_dim}") from e
        for name, shape in zip(op.output, outs):
            known[name] = shape
        produced.update(op.output)
    return params
