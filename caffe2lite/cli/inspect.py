"""``caffe2lite inspect`` and ``caffe2lite convert``.

``inspect`` prints a NetDef (or a PlanDef: its networks, then its execution steps)
as text meant for people: name, type, external inputs and outputs, every op with
its index, type, inputs -> outputs, arguments and the parts of its device option
that matter (seed, engine, device), and last the op types that are not registered,
each with the closest registered names. It reads any file that parses, whether or
not its ops can run here.

``inspect --shapes`` prints every blob's inferred shape and type instead
(:mod:`caffe2lite.cli.shapes`).

``convert`` rewrites a NetDef or PlanDef file in the other format: the output
format follows the output file's extension (``.pbtxt``, ``.prototxt`` and ``.txt``
are text, anything else binary). ``convert --to onnx`` exports a predict net (and
its init net, or random parameters) with :mod:`caffe2lite.onnx.frontend`;
``convert --from onnx`` imports a model with :mod:`caffe2lite.onnx.backend`.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import numpy as np

from caffe2lite.schema import registry
from caffe2lite.io.arguments import argument_value
from caffe2lite.cli.common import (
    Graph,
    UsageError,
    graph_nets,
    is_plan,
    join_names,
    load_graph,
)
from caffe2lite.errors import did_you_mean
from caffe2lite.proto import caffe2_pb2
from caffe2lite.io.protoio import save_proto
from caffe2lite.schema.shapes import TensorShape

MAX_LISTED = 8  # longer repeated arguments are shortened to this many values
DEVICE_TYPES = {v.number: v.name for v in caffe2_pb2.DeviceTypeProto.DESCRIPTOR.values}
DATA_TYPES = {
    v.number: v.name for v in caffe2_pb2.TensorProto.DataType.DESCRIPTOR.values
}


def _scalar(value: Any) -> str:
    if isinstance(value, float):
        return str(np.float32(value))
    if isinstance(value, bytes):
        try:
            return repr(value.decode("utf-8"))
        except UnicodeDecodeError:
            return repr(value) if len(value) <= 32 else f"<{len(value)} bytes>"
    if isinstance(value, caffe2_pb2.TensorProto):
        dims = "x".join(str(d) for d in value.dims) or "scalar"
        name = f" '{value.name}'" if value.name else ""
        return (
            f"tensor{name} {DATA_TYPES.get(value.data_type, value.data_type)} [{dims}]"
        )
    if isinstance(value, caffe2_pb2.NetDef):
        return f"net '{value.name}' ({len(value.op)} ops)"
    if isinstance(value, caffe2_pb2.QTensorProto):
        return f"qtensor [{'x'.join(str(d) for d in value.dims)}]"
    return str(value)


def format_argument(arg: caffe2_pb2.Argument) -> str:
    """One argument as ``name = value``; long lists show their first values.

    >>> format_argument(caffe2_pb2.Argument(name="ratio", f=0.5))
    'ratio = 0.5'
    >>> format_argument(caffe2_pb2.Argument(name="values", ints=range(20)))
    'values = [0, 1, 2, 3, 4, 5, 6, 7, ...] (20 values)'
    """
    value = argument_value(arg)
    if not isinstance(value, list):
        return f"{arg.name} = {_scalar(value)}"
    shown = ", ".join(_scalar(v) for v in value[:MAX_LISTED])
    if len(value) > MAX_LISTED:
        return f"{arg.name} = [{shown}, ...] ({len(value)} values)"
    return f"{arg.name} = [{shown}]"


def _device(option: caffe2_pb2.DeviceOption) -> list[str]:
    facts = []
    if option.device_type:
        facts.append(
            f"device {DEVICE_TYPES.get(option.device_type, option.device_type)}"
            f" id {option.device_id}"
        )
    if option.HasField("random_seed"):
        facts.append(f"random_seed {option.random_seed}")
    if option.node_name:
        facts.append(f"node_name {option.node_name!r}")
    return facts


def net_lines(net: caffe2_pb2.NetDef) -> Iterator[str]:
    """The lines ``inspect`` prints for one NetDef."""
    yield f"net: {net.name or '(no name)'}"
    yield f"type: {net.type or 'simple (default)'}"
    if net.HasField("num_workers"):
        yield f"num_workers: {net.num_workers}"
    if net.HasField("device_option") and _device(net.device_option):
        yield f"device option: {', '.join(_device(net.device_option))}"
    for arg in net.arg:
        yield f"argument: {format_argument(arg)}"
    ins, outs = net.external_input, net.external_output
    yield f"external inputs ({len(ins)}): {join_names(ins)}"
    yield f"external outputs ({len(outs)}): {join_names(outs)}"
    yield f"ops ({len(net.op)}):"
    for i, op in enumerate(net.op):
        name = f" '{op.name}'" if op.name else ""
        flow = f"{join_names(op.input)} -> {join_names(op.output)}"
        yield f"  #{i} {op.type}{name}: {flow}"
        facts = _device(op.device_option) if op.HasField("device_option") else []
        if op.engine:
            facts.insert(0, f"engine {op.engine}")
        if op.is_gradient_op:
            facts.append("gradient op")
        if facts:
            yield f"      {', '.join(facts)}"
        for arg in op.arg:
            yield f"      {format_argument(arg)}"


def step_lines(step: caffe2_pb2.ExecutionStep, depth: int = 1) -> Iterator[str]:
    """The lines ``inspect`` prints for an execution step and its substeps."""
    facts = []
    for field in (
        "num_iter",
        "should_stop_blob",
        "report_net",
        "report_interval",
        "num_concurrent_instances",
    ):
        if step.HasField(field):
            facts.append(f"{field} {getattr(step, field)}")
    for flag in ("only_once", "concurrent_substeps", "create_workspace"):
        if getattr(step, flag):
            facts.append(flag)
    pad = "  " * depth
    yield f"{pad}step '{step.name}'" + (f" ({', '.join(facts)})" if facts else "")
    if len(step.network):
        yield f"{pad}  networks: {join_names(step.network)}"
    for sub in step.substep:
        yield from step_lines(sub, depth + 1)


def unregistered_types(graph: Graph) -> list[tuple[str, str]]:
    """``(op_type, engine)`` of every op with no registered implementation, in order
    of first use."""
    missing: dict[tuple[str, str], None] = {}
    for net in graph_nets(graph):
        for op in net.op:
            if registry.find(op.type, op.engine) is None:
                missing[(op.type, op.engine)] = None
    return list(missing)


def inspect_lines(graph: Graph) -> Iterator[str]:
    """Everything ``caffe2lite inspect`` prints for a NetDef or a PlanDef."""
    if is_plan(graph):
        yield f"plan: {graph.name or '(no name)'}"
        yield f"networks ({len(graph.network)}):"
        for net in graph.network:
            yield ""
            yield from net_lines(net)
        yield ""
        yield f"execution steps ({len(graph.execution_step)}):"
        for step in graph.execution_step:
            yield from step_lines(step)
    else:
        yield from net_lines(graph)
    missing = unregistered_types(graph)
    types = {t for net in graph_nets(graph) for t in (op.type for op in net.op)}
    yield ""
    if not missing:
        yield f"all {len(types)} op types are registered"
        return
    yield f"op types not registered ({len(missing)}):"
    known = registry.registered_types()
    for op_type, engine in missing:
        where = f" (engine {engine})" if engine else ""
        hint = did_you_mean(op_type, known).removeprefix("; ")
        yield f"  {op_type}{where}" + (f": {hint}" if hint else "")


def inspect_command(args: argparse.Namespace, out: Any) -> int:
    """Carry out ``caffe2lite inspect`` (``--shapes``: see :mod:`caffe2lite.cli.shapes`)."""
    from caffe2lite.cli.shapes import check_shape_options, shapes_command

    if getattr(args, "check", False):
        from caffe2lite.cli.checks import check_command

        return check_command(args, out, load_graph(args.file, plan=args.plan))
    check_shape_options(args)
    if getattr(args, "shapes", False):
        return shapes_command(args, out, load_graph(args.file, plan=args.plan))
    for line in inspect_lines(load_graph(args.file, plan=args.plan)):
        print(line, file=out)
    return 0


_EXPORT_ONLY = ("init", "value_info", "input_shape", "opset", "random_init")


def _target(args: argparse.Namespace) -> str:
    if args.output and getattr(args, "out", None) and args.output != args.out:
        raise UsageError(f"convert: two output files given ('{args.output}' and "
                         f"-o '{args.out}')")
    target = args.output or getattr(args, "out", None)
    if not target:
        raise UsageError("convert needs OUT, the file to write (or -o OUT)")
    return target


def _export_onnx(args: argparse.Namespace, target: str, out: Any) -> int:
    """``convert --to onnx``: the predict net IN (+ --init) as an ONNX model."""
    from caffe2lite.cli.shapes import parse_input_shape
    from caffe2lite.inference.params import load_value_info, random_parameters
    from caffe2lite.io.protoio import load_net
    from caffe2lite.onnx.frontend import DEFAULT_OPSET, export
    from caffe2lite.runtime.workspace import Workspace

    if args.plan:
        raise UsageError("convert --to onnx exports a NetDef, not a plan")
    net = load_net(args.input)
    shapes = load_value_info(args.value_info) if args.value_info else {}
    shapes.update(parse_input_shape(t) for t in args.input_shape)
    init: Any = load_net(args.init) if args.init else None
    if args.random_init:
        ws = Workspace()
        if init is not None:
            ws.run_net_once(init)
        blobs = {n: np.asarray(ws.fetch_blob(n)) for n in ws.blobs}
        known = {n: TensorShape(tuple(d if isinstance(d, int) else args.random_init_dim
                                      for d in s.dims), s.dtype)
                 for n, s in shapes.items() if s.dims is not None}
        known.update((n, TensorShape(v.shape, v.dtype)) for n, v in blobs.items())
        blobs.update(random_parameters(net, known, free_dim=args.random_init_dim,
                                       seed=args.seed))
        init = blobs
    opset = args.opset or DEFAULT_OPSET
    model = export(net, init, shapes, path=target, opset_version=opset)
    g = model.graph
    print(f"wrote ONNX model '{g.name}' (opset {opset}, {len(g.node)} nodes, "
          f"{len(g.initializer)} initializers) to {target}", file=out)
    return 0


def _import_onnx(args: argparse.Namespace, target: str, out: Any) -> int:
    """``convert --from onnx``: the ONNX model IN as a predict net and an init net."""
    from caffe2lite.onnx.backend import onnx_to_caffe2_nets

    init, predict = onnx_to_caffe2_nets(args.input)
    save_proto(predict, target)
    print(f"wrote NetDef '{predict.name}' ({len(predict.op)} ops) to {target}", file=out)
    if args.init_out:
        save_proto(init, args.init_out)
        print(f"wrote NetDef '{init.name}' ({len(init.op)} ops) to {args.init_out}",
              file=out)
    elif len(init.op):
        print(f"note: the init net ({len(init.op)} ops) was not written; give --init-out",
              file=out)
    return 0


def convert_command(args: argparse.Namespace, out: Any) -> int:
    """Carry out ``caffe2lite convert``: read IN, write OUT in OUT's format; or export
    to / import from ONNX (``--to onnx`` / ``--from onnx``)."""
    to, from_ = getattr(args, "to", None), getattr(args, "from_", None)
    target = _target(args)
    if to and from_:
        raise UsageError("convert: give --to onnx or --from onnx, not both")
    if not to:
        given = [o for o in _EXPORT_ONLY if getattr(args, o, None)]
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise UsageError(f"convert: {flag} applies to --to onnx only")
    if to:
        return _export_onnx(args, target, out)
    if getattr(args, "init_out", None) and not from_:
        raise UsageError("convert: --init-out applies to --from onnx only")
    if from_:
        return _import_onnx(args, target, out)
    graph = load_graph(args.input, plan=args.plan)
    save_proto(graph, target)
    kind = "PlanDef" if is_plan(graph) else "NetDef"
    print(f"wrote {kind} '{graph.name}' to {target}", file=out)
    return 0
