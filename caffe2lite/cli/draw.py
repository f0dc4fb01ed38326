"""``caffe2lite draw``: a picture of a NetDef (or of a plan's networks).

The output's format follows its extension: ``.dot`` (or ``.gv``) is Graphviz text,
written with no extra dependency; ``.svg``, ``.png`` and ``.pdf`` are rendered by
Graphviz's ``dot`` program, and without it the command stops before reading
anything, saying how to install it. ``--init NET`` marks the blobs that net makes
as parameters; ``--minimal`` draws ops only; ``--rankdir TB`` draws top to bottom.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from caffe2lite.cli.common import UsageError, graph_nets, is_plan, load_graph
from caffe2lite.draw import build_graph, can_render, missing_graphviz_message, render
from caffe2lite.draw.render import PICTURE_FORMATS, GraphvizNotFoundError
from caffe2lite.io.protoio import load_net

FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".png": "png", ".pdf": "pdf"}
RANKDIRS = ("LR", "TB", "RL", "BT")


def output_format(path: str) -> str:
    """The format of an output file, from its extension."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(
            f"cannot tell the picture format of '{path}': give a file ending in "
            ".svg, .png, .pdf or .dot"
        )
    return fmt


def add_draw_parser(sub: Any, plan_help: str) -> None:
    """Add the ``draw`` subcommand to the subparsers ``sub``."""
    draw = sub.add_parser(
        "draw",
        help="draw a NetDef or PlanDef as a graph (SVG, PNG, PDF or DOT)",
        description="Draw a net's ops and blobs: ops as boxes (red for gradient "
        "ops) with their type and key arguments, blobs as octagons (external "
        "inputs blue, parameters yellow, external outputs with a double border), "
        "name scopes as clusters.",
    )
    draw.add_argument("net", metavar="NET", help="NetDef or PlanDef file")
    draw.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        required=True,
        help="file to write: .svg, .png, .pdf (need Graphviz) or .dot",
    )
    draw.add_argument(
        "--init", metavar="NET", help="init NetDef: the blobs it makes are parameters"
    )
    draw.add_argument(
        "--rankdir",
        choices=RANKDIRS,
        default="LR",
        help="direction of the flow: LR left to right (default), TB top to bottom",
    )
    draw.add_argument(
        "--minimal",
        action="store_true",
        help="draw ops only, with an edge from each op to the ops that read its outputs",
    )
    draw.add_argument("--plan", action="store_true", help=plan_help)
    draw.set_defaults(handler=draw_command)


def draw_command(args: argparse.Namespace, out: Any) -> int:
    """Carry out ``caffe2lite draw``."""
    fmt = output_format(args.output)
    if fmt in PICTURE_FORMATS and not can_render():
        try:
            import graphviz  # noqa: F401  (it may know where the program is)
        except ImportError:
            raise UsageError(missing_graphviz_message(fmt)) from None
    folder = Path(args.output).parent
    if not folder.is_dir():
        raise UsageError(
            f"cannot write '{args.output}': folder '{folder}' does not exist"
        )
    graph = load_graph(args.net, plan=args.plan)
    init = load_net(args.init) if args.init else None
    nets = graph_nets(graph)
    name = graph.name or Path(args.net).stem
    drawing = build_graph(
        nets, name, rankdir=args.rankdir, init_net=init, minimal=args.minimal
    )
    try:
        data = render(drawing.to_string(), fmt)
    except GraphvizNotFoundError as e:
        raise UsageError(str(e)) from None
    try:
        with open(os.fspath(args.output), "wb") as f:
            f.write(data)
    except OSError as e:
        raise UsageError(f"cannot write '{args.output}': {e.strerror or e}") from None
    ops = sum(len(net.op) for net in nets)
    blobs = len({b for net in nets for op in net.op for b in (*op.input, *op.output)})
    kind = "plan" if is_plan(graph) else "net"
    what = f"{ops} ops" if args.minimal else f"{ops} ops, {blobs} blobs"
    print(f"wrote {args.output}: {kind} '{name}' ({what})", file=out)
    return 0
