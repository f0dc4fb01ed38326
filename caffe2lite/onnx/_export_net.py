"""The predict net being exported: its single-assignment form (Caffe2's
``ssa_rewrite`` names), the shapes caffe2lite infers for every blob, the constants,
and the op-by-op conversion through the converter table, which collects every op
without an ONNX form before failing (:func:`convert_ops`)."""

from __future__ import annotations

import warnings

import numpy as np

from caffe2lite.errors import Caffe2LiteError
from caffe2lite.inference import infer_net
from caffe2lite.onnx._export_graph import (
    CONVERTERS,
    ExportError,
    OpContext,
    Unsupported,
)
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of

MAX_INDICES = 10  # op indices listed per kind of unexportable op


class NetGraph:
    """The predict net in single-assignment form, its shapes and constants, and the
    ONNX pieces built from it."""

    def __init__(
        self,
        net: caffe2_pb2.NetDef,
        init_blobs: dict[str, np.ndarray],
        given: dict[str, TensorShape],
        opset: int,
    ) -> None:
        self.opset = opset
        self.names = {b for op in net.op for b in (*op.input, *op.output)}
        self.names |= (
            set(net.external_input) | set(net.external_output) | set(init_blobs)
        )
        self.net, self.reads_first = self._ssa(net)
        self.constants = {
            n: init_blobs[n]
            for n in self.reads_first
            if n in init_blobs and n not in given
        }
        self.initializers = dict(self.constants)
        known = {n: shape_of(v) for n, v in self.constants.items()}
        known.update({n: s for n, s in given.items() if n in self.reads_first})
        self.shapes = infer_net(self.net, known, strict=False)
        self.inputs = [n for n in self.reads_first if n not in self.constants]
        self.outputs = self._outputs(net)
        self.last_read: dict[str, int] = {}
        for index, op in enumerate(self.net.op):
            for b in op.input:
                self.last_read[b] = index

    def fresh(self, hint: str) -> str:
        name, k = hint, 0
        while name in self.names:
            k += 1
            name = f"{hint}_{k}"
        self.names.add(name)
        return name

    def _ssa(self, net: caffe2_pb2.NetDef) -> tuple[caffe2_pb2.NetDef, list[str]]:
        writes: dict[str, int] = {}
        reads_first: list[str] = list(dict.fromkeys(net.external_input))
        written: set[str] = set()
        for op in net.op:
            for b in op.input:
                if b not in written and b not in reads_first:
                    reads_first.append(b)
            for b in op.output:
                writes[b] = writes.get(b, 0) + 1
                written.add(b)
        read = {b for op in net.op for b in op.input}
        reads_first = [b for b in reads_first if b in read]
        ssa = caffe2_pb2.NetDef()
        ssa.CopyFrom(net)
        current: dict[str, str] = {}
        seen: dict[str, int] = {}
        inputs = set(reads_first)
        for op in ssa.op:
            op.input[:] = [current.get(b, b) for b in op.input]
            outs = []
            for b in op.output:
                k = seen.get(b, 0) + 1
                seen[b] = k
                last = k == writes[b]
                name = b if last and b not in inputs else self.fresh(f"{b}_{k}")
                current[b] = name
                outs.append(name)
            op.output[:] = outs
        self.final = current
        return ssa, reads_first

    def _outputs(self, net: caffe2_pb2.NetDef) -> list[str]:
        dropped = [b for b in net.external_output if b not in self.final]
        if dropped:
            warnings.warn(
                "There are graph output not produced by any node or initializer: "
                f"{', '.join(dict.fromkeys(dropped))}! Will drop them.",
                stacklevel=4,
            )
        names = [self.final[b] for b in net.external_output if b in self.final]
        if names or net.external_output:
            return list(dict.fromkeys(names))
        # No declared outputs: the blobs written and never read afterwards.
        read = {b for op in self.net.op for b in op.input}
        return list(
            dict.fromkeys(b for op in self.net.op for b in op.output if b not in read)
        )

    def read_later(self, index: int) -> set[str]:
        return {b for b, at in self.last_read.items() if at > index} | set(self.outputs)


def problems_message(
    net: caffe2_pb2.NetDef, failures: list[tuple[int, str, str]]
) -> str:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, op_type, why in failures:
        groups.setdefault((op_type, why), []).append(index)
    n = len(failures)
    lines = [
        (
            f"cannot export net '{net.name or '(no name)'}' to ONNX: {n} "
            f"{'op has' if n == 1 else 'ops have'} no ONNX equivalent:"
        )
    ]
    for (op_type, why), indices in groups.items():
        where = ", ".join(f"#{i}" for i in indices[:MAX_INDICES])
        if len(indices) > MAX_INDICES:
            where += f", ... and {len(indices) - MAX_INDICES} more"
        lines.append(
            f"  - {op_type} ({len(indices)}): op{'s' if len(indices) > 1 else ''} "
            f"{where}" + (f" ({why})" if why else "")
        )
    return "\n".join(lines)


def untranslatable(net: caffe2_pb2.NetDef) -> list[tuple[int, str, str]]:
    """(index, type, why) of every op whose type has no converter at all."""
    return [
        (
            i,
            op.type,
            "" if registry.find(op.type, op.engine) else "not a caffe2lite operator",
        )
        for i, op in enumerate(net.op)
        if op.type not in CONVERTERS
    ]


def convert_ops(graph: NetGraph) -> list[OpContext]:
    """Every op through its converter; raises one :class:`ExportError` naming every op
    that has no ONNX form (no converter, or a form its converter refuses)."""
    done, failures = [], untranslatable(graph.net)
    for index, op in enumerate(graph.net.op):
        if op.type not in CONVERTERS:
            continue
        schema = registry.find(op.type, op.engine)
        ctx = OpContext(graph, op, index)
        try:
            args, problems = schema.parse_args(op) if schema is not None else ({}, [])
            if problems:
                raise Unsupported(problems[0].detail())
            CONVERTERS[op.type](ctx, op, args)
            made = {o for node in ctx.nodes for o in node[2]}
            ctx.require_unused(*[o for o in op.output if o not in made])
        except Unsupported as e:
            failures.append((index, op.type, str(e)))
            continue
        except Caffe2LiteError as e:  # the op's own checks refuse its inputs
            failures.append((index, op.type, e.detail()))
            continue
        done.append(ctx)
    if failures:
        failures.sort(key=lambda f: f[0])
        raise ExportError(problems_message(graph.net, failures))
    return done
