"""``caffe2lite inspect NET --shapes``: every blob's shape and type, without running
the net.

The shapes of the blobs a net reads come from, in rising order of precedence: the
outputs of the ``--init`` net (which is run), the model zoo's ``--value-info`` file,
and ``--input-shape NAME=DTYPE[d0,d1,...]`` (a dimension may be a symbol such as
``N``, left for the data to decide). Walking the ops in order with their shape
functions (:func:`caffe2lite.inference.infer_op`) gives every other blob's; a
dimension the data decide is a symbol, and ``?`` is what cannot be known. The
first op whose inputs cannot fit stops the walk with an error naming it, with
what was expected and what was found.

Printed: the net's name, the blobs it reads (with where their shape came from),
then each op with the shape of every output, in op order.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from caffe2lite.cli.common import UsageError, graph_nets
from caffe2lite.errors import Caffe2LiteError, did_you_mean
from caffe2lite.inference import infer_op
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import UNKNOWN, TensorShape, shape_of

DTYPE_NAMES = (
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "bool",
)
_SPEC = re.compile(r"^(?P<name>.+)=(?P<dtype>\w+)\[(?P<dims>[^\[\]]*)\]$")
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INPUT_SHAPE_FORMAT = (
    "NAME=DTYPE[d0,d1,...], such as ids=int64[N] or data=float32[1,3,224,224]"
)
MAX_NAME_WIDTH = 32


def parse_input_shape(text: str) -> tuple[str, TensorShape]:
    """``NAME=DTYPE[d0,d1,...]`` as a blob name and its TensorShape; a dimension is a
    non-negative integer or a symbol (``N``); ``x=float32[]`` is a scalar.

    >>> parse_input_shape("ids=int64[N]")
    ('ids', TensorShape(dims=('N',), dtype=dtype('int64')))
    """
    m = _SPEC.match(text.strip())
    if m is None:
        raise UsageError(
            f"--input-shape '{text}' is not of the form {INPUT_SHAPE_FORMAT}"
        )
    name, dtype, body = m.group("name"), m.group("dtype"), m.group("dims").strip()
    if dtype not in DTYPE_NAMES:
        raise UsageError(
            f"--input-shape '{text}': unknown data type '{dtype}'; use one of "
            + ", ".join(DTYPE_NAMES)
        )
    dims: list[int | str] = []
    for part in body.split(",") if body else []:
        part = part.strip()
        if part.isdigit():
            dims.append(int(part))
        elif _SYMBOL.match(part):
            dims.append(part)
        else:
            raise UsageError(
                f"--input-shape '{text}': dimension '{part}' is neither a "
                "non-negative integer nor a symbol such as N"
            )
    return name, TensorShape(tuple(dims), np.dtype(dtype))


def _init_shapes(path: str) -> dict[str, TensorShape]:
    from caffe2lite.io.protoio import load_net
    from caffe2lite.runtime.workspace import Workspace

    ws = Workspace()
    ws.run_net_once(load_net(path))
    return {name: shape_of(ws.fetch_blob(name)) for name in ws.blobs}


def given_shapes(
    args: argparse.Namespace,
) -> tuple[dict[str, TensorShape], dict[str, str]]:
    """The shapes ``--init``, ``--value-info`` and ``--input-shape`` give, and where
    each came from."""
    shapes: dict[str, TensorShape] = {}
    origin: dict[str, str] = {}
    sources: list[tuple[str, dict[str, TensorShape]]] = []
    if getattr(args, "init", None):
        sources.append(("init net", _init_shapes(args.init)))
    if getattr(args, "value_info", None):
        from caffe2lite.inference.params import load_value_info

        sources.append(("value info", load_value_info(args.value_info)))
    sources.append(
        (
            "--input-shape",
            dict(
                parse_input_shape(t) for t in getattr(args, "input_shape", None) or []
            ),
        )
    )
    for where, found in sources:
        for name, shape in found.items():
            shapes[name] = shape
            origin[name] = where
    return shapes, origin


def shape_text(shape: TensorShape) -> str:
    """A shape as printed: ``float32[N, 8]``, ``?`` when nothing is known."""
    return "?" if shape.dims is None and shape.dtype is None else str(shape)


def _width(nets: list[caffe2_pb2.NetDef]) -> int:
    names = [b for net in nets for op in net.op for b in (*op.input, *op.output)]
    return min(max((len(n) for n in names), default=1), MAX_NAME_WIDTH)


def _failed(
    e: Caffe2LiteError, op: caffe2_pb2.OperatorDef, index: int, net: caffe2_pb2.NetDef
) -> Caffe2LiteError:
    """``e`` said of op #index of ``net`` (infer_op named the op but not where)."""
    e.context = None
    return e.add_context(
        op_type=op.type,
        op_index=index,
        op_name=op.name or None,
        net_name=net.name or None,
    )


def shape_lines(
    graph: Any, shapes: dict[str, TensorShape], origin: dict[str, str]
) -> Iterator[str]:
    """The lines ``inspect --shapes`` prints. Raises the first op's shape error once
    the lines before it are given."""
    nets = graph_nets(graph)
    width = _width(nets)
    known = dict(shapes)

    def row(name: str, shape: TensorShape, note: str = "", pad: int = 0) -> str:
        text = f"    {name:<{width}}  {shape_text(shape):<{pad}}"
        return f"{text}  ({note})" if note else text.rstrip()

    for net in nets:
        yield f"net: {net.name or '(no name)'} ({len(net.op)} ops)"
        written: set[str] = set()
        reads: list[str] = []
        for op in net.op:
            reads += [b for b in op.input if b not in written and b not in reads]
            written.update(op.output)
        yield f"  inputs ({len(reads)}):"
        pad = max((len(shape_text(known.get(b, UNKNOWN))) for b in reads), default=0)
        for name in reads:
            made = "made by an earlier net" if name in known else "not given"
            yield row(name, known.get(name, UNKNOWN), origin.get(name, made), pad)
        yield "  ops:"
        for index, op in enumerate(net.op):
            inputs = [known.get(b, UNKNOWN) for b in op.input]
            flow = f"{', '.join(op.input) or '-'} -> {', '.join(op.output) or '-'}"
            yield f"  #{index} {op.type}: {flow}"
            if registry.find(op.type, op.engine) is None:
                outs, note = [UNKNOWN] * len(op.output), "op type not registered"
            else:
                try:
                    outs, note = infer_op(op, inputs), ""
                except Caffe2LiteError as e:
                    raise _failed(e, op, index, net) from None
            for name, shape in zip(op.output, outs):
                known[name] = shape
                yield row(name, shape, note)


def check_input_names(args: argparse.Namespace, graph: Any) -> None:
    """Refuse an ``--input-shape`` for a blob that no op of ``graph`` reads."""
    names = [parse_input_shape(t)[0] for t in getattr(args, "input_shape", None) or []]
    read = {b for net in graph_nets(graph) for op in net.op for b in op.input}
    unread = list(dict.fromkeys(n for n in names if n not in read))
    if not unread:
        return
    what = (
        f"blob '{unread[0]}'"
        if len(unread) == 1
        else "blobs " + ", ".join(f"'{n}'" for n in unread)
    )
    raise UsageError(
        f"--input-shape gives the shape of {what} that no op reads"
        + did_you_mean(unread[0], sorted(read))
    )


def shapes_command(args: argparse.Namespace, out: Any, graph: Any) -> int:
    """Carry out ``caffe2lite inspect --shapes`` for the loaded ``graph``."""
    check_input_names(args, graph)
    shapes, origin = given_shapes(args)
    for line in shape_lines(graph, shapes, origin):
        print(line, file=out)
    return 0


def add_shape_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--shapes`` options of ``caffe2lite inspect``."""
    parser.add_argument(
        "--shapes",
        action="store_true",
        help="print every blob's inferred shape and data type, op by op",
    )
    parser.add_argument(
        "--input-shape",
        metavar="NAME=DTYPE[d0,...]",
        action="append",
        default=[],
        help="with --shapes: the shape of an input blob (repeatable); a dimension "
        "may be a symbol, as in ids=int64[N]",
    )
    parser.add_argument(
        "--value-info",
        metavar="FILE.json",
        help="with --shapes: input shapes from a model zoo value_info.json",
    )
    parser.add_argument(
        "--init",
        metavar="NET",
        help="with --shapes: an init NetDef, run to give the shapes of what it makes",
    )


def check_shape_options(args: argparse.Namespace) -> None:
    """Refuse the ``--shapes`` options without ``--shapes``."""
    if getattr(args, "shapes", False):
        return
    used = [
        flag
        for flag, dest in (
            ("--input-shape", "input_shape"),
            ("--value-info", "value_info"),
            ("--init", "init"),
        )
        if getattr(args, dest, None)
    ]
    if used:
        raise UsageError(f"{', '.join(used)} only applies with --shapes")
