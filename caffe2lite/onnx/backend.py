"""Import ONNX models as Caffe2 nets, with the API of ``caffe2.python.onnx.backend``.

``onnx_to_caffe2_nets(model)`` turns an ONNX model (a path, bytes or an
``onnx.ModelProto``) into an init net (one Given*Fill op per initializer) and a predict
net (graph inputs as external inputs, graph outputs as external outputs), built from
caffe2lite's registered operators. ``prepare(model).run(inputs)`` runs it.

>>> init_net, predict_net = onnx_to_caffe2_nets("model.onnx")  # doctest: +SKIP
>>> prepare("model.onnx").run([x]).y                              # doctest: +SKIP

Each ONNX op has a converter in a table (``CONVERTERS``, filled by the ``_import_*``
modules: nn, ops, shape, index, reduce, resize, misc). Before anything is returned
every node is checked: an op type without a converter, a form its converter cannot
express (say MaxPool asked for its Indices output), an input element type no
caffe2lite kernel takes, or an initializer or graph input that is not a plain tensor,
is collected, and all of them are reported in one :class:`OnnxImportError`. The
model is untrusted input: a file that does not parse or fails the ONNX checker is an
``OnnxImportError`` too, never a raw protobuf error.

Where this differs from Caffe2's backend: ``opset_version`` defaults to the model's
own opset (Caffe2's defaulted to the one it knew); the init net also lists its
blobs as external outputs and the predict net lists the initializers as external
inputs; ``Caffe2Rep.run`` runs the init net before feeding, so a fed value always
overrides an initializer of the same name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ApiValueError
from caffe2lite.onnx import (  # noqa: F401  (each fills CONVERTERS)
    _import_index,
    _import_misc,
    _import_nn,
    _import_ops,
    _import_reduce,
    _import_resize,
    _import_shape,
)
from caffe2lite.onnx._import_context import (
    CONVERTERS,
    FILL_DTYPES,
    ONNX_NUMPY,
    ImportContext,
    Unsupported,
    fill_ops,
)
from caffe2lite.onnx._import_facts import learn
from caffe2lite.onnx._import_load import (
    OnnxImportError,
    load_model,
    model_opset,
    onnx_module,
    value_types,
)
from caffe2lite.onnx._import_rep import Caffe2Rep, _Outputs
from caffe2lite.proto import caffe2_pb2

__all__ = [
    "CONVERTERS",
    "Caffe2Backend",
    "Caffe2Rep",
    "OnnxImportError",
    "is_compatible",
    "onnx_to_caffe2_nets",
    "prepare",
    "run_model",
    "run_node",
    "supports_device",
]


# The element types caffe2lite's computing kernels take; ops that only move data
# (and Cast, which converts them) take the narrow integer and float16 types too.
_PLAIN_TYPES = {1, 6, 7, 9, 11}  # float, int32, int64, bool, double
_ANY_TYPE_OPS = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Concat",
                 "Split", "Gather", "Slice", "Shape", "Size", "Tile", "Cast"}


def _odd_input_type(ctx: ImportContext, node: Any) -> str:
    """The name of an input element type no kernel of this node takes, or ''."""
    if node.op_type in _ANY_TYPE_OPS:
        return ""
    for name in node.input:
        elem = ctx.elem_type(name) if name else None
        if elem is not None and elem not in _PLAIN_TYPES:
            names = onnx_module().TensorProto.DataType
            return names.Name(elem).lower() if elem in names.values() else f"type {elem}"
    return ""


def _node_label(node: Any, index: int) -> str:
    return node.name or f"#{index}"


_VALUE_KINDS = ("graph input", "graph output", "initializer")


def _unsupported_message(problems: list[tuple[str, str, str]]) -> str:
    """One line per (op type, reason): the count and the node names."""
    groups: dict[tuple[str, str], list[str]] = {}
    for op_type, reason, label in problems:
        groups.setdefault((op_type, reason), []).append(label)
    if any(kind in _VALUE_KINDS for kind, _, _ in problems):
        head = f"{len(problems)} node(s) or value(s) that caffe2lite cannot express:"
    else:
        head = f"{len(problems)} node(s) use operators caffe2lite cannot express:"
    lines = ["cannot import the ONNX model: " + head]
    for (op_type, reason), labels in groups.items():
        what = f"{op_type} ({reason})" if reason else op_type
        noun = "value(s)" if op_type in _VALUE_KINDS else "node(s)"
        lines.append(f"  {what}: {len(labels)} {noun}: {', '.join(labels)}")
    return "\n".join(lines)


def _convert(proto: Any, opset: int, device_option: caffe2_pb2.DeviceOption | None = None
             ) -> tuple[caffe2_pb2.NetDef, caffe2_pb2.NetDef]:
    onnx = onnx_module()
    g = proto.graph
    consts, unreadable = {}, []
    for t in g.initializer:
        try:
            consts[t.name] = onnx.numpy_helper.to_array(t)
        except (KeyError, ValueError, TypeError) as e:  # an odd data_type or size
            unreadable.append(("initializer", f"unreadable: {type(e).__name__}: {e}", t.name))
    names = {vi.name for vi in g.input} | {vi.name for vi in g.output} | set(consts)
    for node in g.node:
        names.update(node.input)
        names.update(node.output)
    ctx = ImportContext(opset, dict(consts), value_types(proto), names)

    problems = list(unreadable)
    for kind, values in (("graph input", g.input), ("graph output", g.output)):
        for vi in values:
            if not vi.type.HasField("tensor_type"):
                problems.append((kind, f"a {vi.type.WhichOneof('value')}, not a tensor",
                                 vi.name))
    for t in g.initializer:
        if t.name in consts and consts[t.name].dtype not in FILL_DTYPES:
            problems.append(("initializer", f"dtype {consts[t.name].dtype}", t.name))
    for i, node in enumerate(g.node):
        label = _node_label(node, i)
        if node.domain not in ("", "ai.onnx"):
            problems.append((f"{node.domain}.{node.op_type}", "", label))
            continue
        fn = CONVERTERS.get(node.op_type)
        if fn is None:
            problems.append((node.op_type, "", label))
            continue
        odd = _odd_input_type(ctx, node)
        if odd:
            problems.append((node.op_type, f"{odd} inputs", label))
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        ctx.node_name = node.name
        first = len(ctx.ops)
        try:
            fn(ctx, node, attrs)
        except Unsupported as e:
            problems.append((node.op_type, e.reason, label))
        except KeyError as e:  # a required attribute the checker let through
            problems.append((node.op_type, f"missing attribute {e}", label))
        except (ValueError, TypeError, IndexError, ArithmeticError) as e:
            # odd attribute values in an untrusted model: reported, never raised raw
            problems.append((node.op_type, f"{type(e).__name__}: {e}", label))
        else:
            learn(ctx, node, first)
    if problems:
        raise OnnxImportError(_unsupported_message(problems))

    base = g.name or "onnx_model"
    init_net, predict_net = caffe2_pb2.NetDef(), caffe2_pb2.NetDef()
    init_net.name, predict_net.name = base + "_init", base + "_predict"
    if device_option is not None:
        init_net.device_option.CopyFrom(device_option)
        predict_net.device_option.CopyFrom(device_option)
    for t in g.initializer:
        fill_ops(t.name, consts[t.name], ctx.tmp, into=init_net.op)
    init_net.op.extend(ctx.init_ops)
    init_net.external_output.extend(
        [t.name for t in g.initializer] + [o for op in ctx.init_ops for o in op.output
                                          if o in ctx.consts])
    predict_net.op.extend(ctx.ops)
    inputs = [vi.name for vi in g.input]
    predict_net.external_input.extend(inputs)
    predict_net.external_input.extend(
        n for n in init_net.external_output if n not in set(inputs))
    predict_net.external_output.extend(vi.name for vi in g.output)
    return init_net, predict_net


def onnx_to_caffe2_nets(model_or_path: Any, opset_version: int | None = None) -> tuple:
    """``(init_net, predict_net)`` NetDefs for an ONNX model (path, bytes or ModelProto).

    ``opset_version`` overrides the model's default-domain opset (the one whose
    semantics the converters follow, e.g. Softmax's axis). Raises
    :class:`OnnxImportError` for an unreadable or invalid model, and for every node
    that cannot be imported (all listed in one message).
    """
    proto = load_model(model_or_path)
    return _convert(proto, model_opset(proto, opset_version))


class Caffe2Backend:
    """ONNX's backend interface over caffe2lite (Caffe2's class and method names)."""

    @classmethod
    def is_compatible(cls, model: Any, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).upper().split(":")[0] == "CPU"

    @classmethod
    def _check_device(cls, device: str) -> None:
        if not cls.supports_device(device):
            raise OnnxImportError(f"caffe2lite runs on CPU only, not on device '{device}'")

    @classmethod
    def onnx_graph_to_caffe2_net(cls, model: Any, device: str = "CPU",
                                 opset_version: int | None = None) -> tuple:
        """``(init_net, predict_net)`` for ``model``, as :func:`onnx_to_caffe2_nets`."""
        cls._check_device(device)
        return onnx_to_caffe2_nets(model, opset_version)

    @classmethod
    def prepare(cls, model: Any, device: str = "CPU", **kwargs: Any) -> Caffe2Rep:
        """Convert ``model`` and make a :class:`Caffe2Rep` with its own workspace."""
        from caffe2lite.runtime.workspace import Workspace

        cls._check_device(device)
        proto = load_model(model)
        init_net, predict_net = _convert(proto, model_opset(proto, kwargs.get("opset_version")))
        initialized = {t.name for t in proto.graph.initializer}
        uninitialized = [vi.name for vi in proto.graph.input if vi.name not in initialized]
        return Caffe2Rep(init_net, predict_net, Workspace(), uninitialized)

    @classmethod
    def run_model(cls, model: Any, inputs: Any, device: str = "CPU", **kwargs: Any) -> _Outputs:
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: Any, inputs: Any, device: str = "CPU",
                 opset_version: int | None = None, outputs_info: Any = None,
                 **kwargs: Any) -> _Outputs:
        """Run one ``onnx.NodeProto`` on ``inputs`` (a list in node-input order or a
        dict by name)."""
        onnx = onnx_module()
        from onnx import helper

        if isinstance(inputs, dict):
            feeds = dict(inputs)
        else:
            names = [n for n in node.input if n]
            if len(names) != len(inputs):
                raise ApiValueError(
                    f"{node.op_type}: expected {len(names)} but got {len(inputs)}")
            feeds = dict(zip(names, inputs))
        graph_inputs = []
        for name, value in feeds.items():
            arr = np.asarray(value)
            elem = helper.np_dtype_to_tensor_dtype(arr.dtype)
            graph_inputs.append(helper.make_tensor_value_info(name, elem, arr.shape))
        outputs = [helper.make_tensor_value_info(o, onnx.TensorProto.UNDEFINED, None)
                   for o in node.output if o]
        graph = helper.make_graph([node], "run_node", graph_inputs, outputs)
        opset = opset_version or _supported_opset()
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        # give the outputs their types, as the checker wants (an error shows there)
        model = onnx.shape_inference.infer_shapes(model)
        return cls.prepare(model, device).run(
            [np.asarray(feeds[vi.name]) for vi in graph_inputs])


def _supported_opset() -> int:
    onnx = onnx_module()
    return int(onnx.defs.onnx_opset_version())


is_compatible = Caffe2Backend.is_compatible
prepare = Caffe2Backend.prepare
run_model = Caffe2Backend.run_model
run_node = Caffe2Backend.run_node
supports_device = Caffe2Backend.supports_device

# numpy dtypes an ONNX graph input may take, for callers building feeds.
ONNX_INPUT_DTYPES = dict(ONNX_NUMPY)
