"""Caffe2 NetDef (predict net + init net) to ONNX, with the names of Caffe2's
``caffe2.python.onnx.frontend``: :func:`caffe2_net_to_onnx_graph`,
:func:`caffe2_net_to_onnx_model`, plus :func:`export` (files in, a file out).

- The init net is run in a scratch workspace; every blob the predict net reads that
  it made is an initializer, unless ``value_info`` names it (Caffe2's frontend also
  treated a filled blob given in ``value_info`` as an input: the "fake init" of data).
- The graph's inputs are the other blobs the predict net reads before writing them,
  typed and shaped by ``value_info``; every other blob's shape and type comes from
  caffe2lite's shape inference (no net is run for it).
- Blobs written more than once (in-place ops) get single-assignment names as in
  Caffe2's ``ssa_rewrite``: ``name_1``, ``name_2`` ...; the last write of a blob keeps
  its name unless the blob is also a graph input.
- Each op goes through its converter (:mod:`._export_math`, :mod:`._export_transform`,
  :mod:`._export_reduce`, :mod:`._export_vision`,
  :mod:`._export_shape`, :mod:`._export_segment`, :mod:`._export_quantized`,
  :mod:`._export_sparse`, :mod:`._export_nn`, :mod:`._export_norm`). Ops
  without an ONNX form are all collected first, then reported in one
  :class:`ExportError` listing each type with its count and op indices.

``value_info`` is ``{blob: (elem_type, shape)}`` with ONNX ``TensorProto`` element
types as in Caffe2's frontend, or ``{blob: TensorShape}``, or the path of a model
zoo ``value_info.json`` (read by :func:`caffe2lite.inference.params.load_value_info`).

>>> from caffe2lite import core                       # doctest: +SKIP
>>> net = core.Net("n"); _ = net.Relu("X", "Y")       # doctest: +SKIP
>>> model = caffe2_net_to_onnx_model(net.Proto(), value_info={"X": (1, (2, 3))})  # doctest: +SKIP
>>> [n.op_type for n in model.graph.node]             # doctest: +SKIP
['Relu']
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from caffe2lite.onnx import (  # noqa: F401  (they fill CONVERTERS)
    _export_math,
    _export_nn,
    _export_norm,
    _export_quantized,
    _export_reduce,
    _export_segment,
    _export_shape,
    _export_sparse,
    _export_transform,
    _export_vision,
)
from caffe2lite.onnx._export_graph import ExportError
from caffe2lite.onnx._export_net import (
    NetGraph,
    convert_ops,
    problems_message,
    untranslatable,
)
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.shapes import UNKNOWN, TensorShape

DEFAULT_OPSET = 17
MIN_OPSET = 13
INSTALL_HINT = "pip install 'caffe2lite[onnx]'"

__all__ = [
    "DEFAULT_OPSET",
    "ExportError",
    "caffe2_net_to_onnx_graph",
    "caffe2_net_to_onnx_model",
    "export",
]


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ExportError(
            f"ONNX export needs the onnx package: {INSTALL_HINT}"
        ) from None
    return onnx


def _netdef(net: Any, what: str) -> caffe2_pb2.NetDef | None:
    if net is None or isinstance(net, caffe2_pb2.NetDef):
        return net
    if isinstance(net, (str, Path)):
        from caffe2lite.io.protoio import load_net

        return load_net(str(net))
    if hasattr(net, "Proto"):
        return net.Proto()
    raise ExportError(
        f"{what} must be a NetDef, a core.Net or a file path", found=type(net).__name__
    )


def _value_info(value_info: Any) -> dict[str, TensorShape]:
    if value_info is None:
        return {}
    if isinstance(value_info, (str, Path)):
        from caffe2lite.inference.params import load_value_info

        return load_value_info(value_info)
    if not isinstance(value_info, dict):
        raise ExportError(
            "Please pass value_info as a name -> (type, shape) dictionary",
            found=type(value_info).__name__,
        )
    onnx = _onnx()
    out = {}
    for name, spec in value_info.items():
        if isinstance(spec, TensorShape):
            out[name] = spec
            continue
        try:
            elem_type, dims = spec
            dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(int(elem_type)))
            out[name] = TensorShape(tuple(int(d) for d in dims), dtype)
        except (TypeError, ValueError, KeyError):
            raise ExportError(
                f"value_info entry '{name}' must be (elem_type, shape) or "
                "a TensorShape",
                found=repr(spec),
            ) from None
    return out


def _value_info_proto(onnx: Any, name: str, shape: TensorShape) -> Any | None:
    if shape.dtype is None:
        return None
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(shape.dtype))
    dims = (
        None
        if shape.dims is None
        else [d if isinstance(d, (int, str)) else None for d in shape.dims]
    )
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def _tensor(onnx: Any, name: str, value: np.ndarray) -> Any:
    value = np.asarray(value)
    if value.dtype.kind in "OSU":
        data = [
            v if isinstance(v, bytes) else str(v).encode() for v in value.reshape(-1)
        ]
        return onnx.helper.make_tensor(name, onnx.TensorProto.STRING, value.shape, data)
    return onnx.numpy_helper.from_array(value, name)


def _onnx_types(onnx: Any, nodes: list, inputs: list, inits: list, opset: int) -> dict:
    """{name: ValueInfoProto} of every blob ONNX's shape inference types."""
    graph = onnx.helper.make_graph(nodes, "probe", inputs, [], initializer=inits)
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset)]
    )
    try:
        inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    except onnx.shape_inference.InferenceError:
        return {}
    return {v.name: v for v in inferred if v.type.tensor_type.elem_type}


def caffe2_net_to_onnx_graph(
    predict_net: Any,
    init_net: Any = None,
    value_info: Any = None,
    opset_version: int | None = None,
) -> Any:
    """The ``onnx.GraphProto`` of ``predict_net`` with ``init_net``'s blobs as
    initializers (``init_net`` may also be a ``{blob: array}`` dict). Raises
    :class:`ExportError` for ops without an ONNX form (all of them at once) and for
    inputs whose type is not known."""
    onnx = _onnx()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    top = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= opset <= top:
        raise ExportError(
            "unsupported ONNX opset version",
            arg="opset_version",
            expected=f"{MIN_OPSET} <= opset <= {top}",
            found=opset,
        )
    net = _netdef(predict_net, "predict_net")
    if net is None:
        raise ExportError("predict_net is required", arg="predict_net",
                          expected="a NetDef, a core.Net or a file path", found="None")
    given = _value_info(value_info)
    blobs: dict[str, np.ndarray] = {}
    if isinstance(init_net, Mapping):  # the blobs themselves
        blobs = {str(k): np.asarray(v) for k, v in init_net.items()}
        init_net = None
    init = _netdef(init_net, "init_net")
    if init is not None:
        from caffe2lite.runtime.workspace import Workspace

        ws = Workspace()
        ws.run_net_once(init)
        blobs = {n: np.asarray(ws.fetch_blob(n)) for n in ws.blobs}
    graph = NetGraph(net, blobs, given, opset)
    missing = [n for n in graph.inputs if graph.shapes.get(n, UNKNOWN).dtype is None]
    if missing:
        # Ops no input can make exportable are the first thing to say.
        if untranslatable(graph.net):
            raise ExportError(problems_message(graph.net, untranslatable(graph.net)))
        raise ExportError("Could not find value info of inputs: " + ", ".join(missing))
    converted = convert_ops(graph)
    nodes, inits = [], [_tensor(onnx, n, v) for n, v in graph.initializers.items()]
    for ctx in converted:
        for k, (op_type, ins, outs, attrs) in enumerate(ctx.nodes):
            attrs = {
                a: _tensor(onnx, "", v) if isinstance(v, np.ndarray) else v
                for a, v in attrs.items()
            }
            name = ctx.op.name or f"{ctx.op.type}_{ctx.index}"
            nodes.append(
                onnx.helper.make_node(
                    op_type, ins, outs, name=f"{name}/{k}" if k else name, **attrs
                )
            )
        inits += [_tensor(onnx, n, v) for n, v in ctx.consts]
    # Constants no node reads (a quantized table read once, dequantized) are left out.
    read = {i for node in nodes for i in node.input}
    inits = [t for t in inits if t.name in read]
    inputs = [_value_info_proto(onnx, n, graph.shapes[n]) for n in graph.inputs]
    outputs = [
        _value_info_proto(onnx, n, graph.shapes.get(n, UNKNOWN)) for n in graph.outputs
    ]
    if None in outputs:  # ask ONNX's shape inference for the types caffe2lite lacks
        found = _onnx_types(onnx, nodes, inputs, inits, opset)
        outputs = [vi or found.get(n) for n, vi in zip(graph.outputs, outputs)]
        lost = [n for n, vi in zip(graph.outputs, outputs) if vi is None]
        if lost:
            raise ExportError(
                "the type of output "
                + ", ".join(f"'{n}'" for n in lost)
                + " is unknown to caffe2lite's and ONNX's shape inference",
                expected="the inputs' types and shapes in value_info",
            )
    skip = set(graph.inputs) | set(graph.outputs) | set(graph.initializers)
    middle = [
        _value_info_proto(onnx, o, graph.shapes.get(o, UNKNOWN))
        for op in graph.net.op
        for o in op.output
        if o not in skip
    ]
    return onnx.helper.make_graph(
        nodes,
        net.name or "caffe2lite",
        inputs,
        outputs,
        initializer=inits,
        value_info=[v for v in middle if v is not None],
    )


def caffe2_net_to_onnx_model(
    predict_net: Any,
    init_net: Any = None,
    value_info: Any = None,
    opset_version: int | None = None,
) -> Any:
    """The checked ``onnx.ModelProto`` of ``predict_net`` (see
    :func:`caffe2_net_to_onnx_graph`); opset ``opset_version`` (default 17)."""
    onnx = _onnx()
    graph = caffe2_net_to_onnx_graph(predict_net, init_net, value_info, opset_version)
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    imports = [onnx.helper.make_opsetid("", opset)]
    model = onnx.helper.make_model(
        graph,
        opset_imports=imports,
        producer_name="caffe2lite",
        ir_version=onnx.helper.find_min_ir_version_for(imports),
    )
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise ExportError(
            f"the exported model does not pass onnx.checker: {e}"
        ) from None
    return model


def export(
    predict_net: Any,
    init_net: Any = None,
    value_info: Any = None,
    path: str | Path | None = None,
    opset_version: int = DEFAULT_OPSET,
) -> Any:
    """Export to ONNX; nets may be NetDefs, core.Nets or file paths. Writes the model
    to ``path`` when given; returns the ``onnx.ModelProto``."""
    model = caffe2_net_to_onnx_model(predict_net, init_net, value_info, opset_version)
    if path is not None:
        _onnx().save(model, str(path))
    return model
