"""Caffe2's ``net_drawer``: pictures of nets, as Graphviz graphs.

``GetPydotGraph(net)`` draws ops (boxes: green, red for gradient ops, labelled with
the op type and key arguments) and blobs (octagons: external inputs blue, parameters
yellow, external outputs with a double border), with name scopes as clusters;
``GetPydotGraphMinimal(net)`` draws ops only. Both return a ``pydot.Dot`` when pydot
is installed (``pip install "caffe2lite[draw]"``), and otherwise a
:class:`caffe2lite.draw.DotGraph` with the same ``to_string()``, ``write()``,
``write_svg()``, ``create_png()``, ``get_name()`` ... methods. The DOT text is
written by caffe2lite itself; pictures (SVG, PNG, PDF) need Graphviz's ``dot``
program (``apt-get install graphviz``).

The DOT text (``GetPydotGraph(net).to_string()`` without pydot):

>>> from caffe2lite import core, draw
>>> net = core.Net("n"); _ = net.Relu("X", "Y")
>>> print(draw.net_to_dot(net.Proto()))  # doctest: +ELLIPSIS
digraph "n" {
  rankdir="LR";
  "Relu (op#0)" [label="Relu", shape="box", color="#0F9D58", ...];
  "X" [label="X", shape="octagon", ...];
  "Y" [label="Y", shape="octagon", comment="blob"];
  "X" -> "Relu (op#0)";
  "Relu (op#0)" -> "Y";
}
<BLANKLINE>

Differences from Caffe2: a blob written again is the node ``name#1``, ``name#2`` ...
(Caffe2 appended the count to the name, ``X0``, ``X1``, which could clash with
another blob's name); op and blob nodes carry more than the name (type and
arguments, the kind of blob) unless producers are given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caffe2lite.draw import dot as _dot
from caffe2lite.draw import graph as _graph
from caffe2lite.proto import caffe2_pb2

OP_STYLE = dict(_graph.OP_STYLE)
BLOB_STYLE = dict(_graph.BLOB_STYLE)


def _pydot() -> Any:
    try:
        import pydot
    except ImportError:
        return None
    return pydot


def _rectify_operator_and_name(
    operators_or_net: Any, name: str | None
) -> tuple[caffe2_pb2.NetDef, str]:
    """A NetDef (or a core.Net, or a list of OperatorDefs) and the graph's name."""
    if isinstance(operators_or_net, caffe2_pb2.NetDef):
        return operators_or_net, name if name is not None else operators_or_net.name
    if hasattr(operators_or_net, "Proto"):
        net = operators_or_net.Proto()
        if not isinstance(net, caffe2_pb2.NetDef):
            raise RuntimeError(f"Expecting NetDef, but got {type(net)}")
        return net, name if name is not None else net.name
    net = caffe2_pb2.NetDef()
    net.op.extend(operators_or_net)
    return net, name if name is not None else "unnamed"


def _result(graph: _dot.DotGraph) -> Any:
    pydot = _pydot()
    if pydot is None:
        return graph
    return graph.to_pydot(pydot)


def GetOpNodeProducer(append_output: bool, **kwargs: Any) -> Callable[..., Any]:
    """A function ``(op, op_id) -> node`` naming the node ``Type (op#i)`` (or
    ``name/Type (op#i)``), followed by the op's outputs, one a line, when
    ``append_output``; ``kwargs`` are the node's attributes. The node is a pydot.Node
    when pydot is installed."""

    def make(op: caffe2_pb2.OperatorDef, op_id: int) -> Any:
        node_name = _graph.op_node_name(op, op_id)
        if append_output:
            node_name += "".join("\n" + b for b in op.output)
        pydot = _pydot()
        if pydot is not None:
            return pydot.Node(node_name, **kwargs)
        return _dot.Node(node_name, dict(kwargs))

    return make


def GetBlobNodeProducer(**kwargs: Any) -> Callable[..., Any]:
    """A function ``(node_name, label) -> node`` with ``kwargs`` as attributes."""

    def make(node_name: str, label: str) -> Any:
        pydot = _pydot()
        if pydot is not None:
            return pydot.Node(node_name, label=label, **kwargs)
        return _dot.Node(node_name, {"label": label, **kwargs})

    return make


def GetPydotGraph(
    operators_or_net: Any,
    name: str | None = None,
    rankdir: str = "LR",
    op_node_producer: Callable[..., Any] | None = None,
    blob_node_producer: Callable[..., Any] | None = None,
    init_net: caffe2_pb2.NetDef | None = None,
) -> Any:
    """The graph of ops and blobs of a NetDef, core.Net or list of OperatorDefs.

    ``init_net`` (caffe2lite's addition) marks the blobs it makes as parameters."""
    net, name = _rectify_operator_and_name(operators_or_net, name)
    return _result(
        _graph.build_graph(
            net,
            name,
            rankdir=rankdir,
            init_net=init_net,
            op_node_producer=op_node_producer,
            blob_node_producer=blob_node_producer,
        )
    )


def GetPydotGraphMinimal(
    operators_or_net: Any,
    name: str | None = None,
    rankdir: str = "LR",
    minimal_dependency: bool = False,
    op_node_producer: Callable[..., Any] | None = None,
) -> Any:
    """The graph of ops only, with an edge from the op that wrote a blob to each op
    reading it; ``minimal_dependency`` leaves out edges implied by others (if c
    reads from a and b, and b from a, only b -> c is drawn)."""
    net, name = _rectify_operator_and_name(operators_or_net, name)
    return _result(
        _graph.build_graph(
            net,
            name,
            rankdir=rankdir,
            minimal=True,
            minimal_dependency=minimal_dependency,
            op_node_producer=op_node_producer,
        )
    )


def GetOperatorMapForPlan(plan_def: caffe2_pb2.PlanDef) -> dict[str, Any]:
    """``{plan name + "_" + net name: the net's ops}`` for each network of a plan
    (``_network_<i>`` for a network without a name)."""
    operator_map = {}
    for net_id, net in enumerate(plan_def.network):
        if net.HasField("name"):
            operator_map[f"{plan_def.name}_{net.name}"] = net.op
        else:
            operator_map[f"{plan_def.name}_network_{net_id}"] = net.op
    return operator_map


def main(argv: list[str] | None = None) -> int:
    """``python -m caffe2lite.net_drawer --input FILE [--output_prefix P] [--minimal]
    [--minimal_dependency] [--rankdir LR]``: as Caffe2's, write ``P<name>.dot`` for
    the net (or for each network of a plan) and, when Graphviz is installed,
    ``P<name>.pdf`` beside it."""
    import argparse

    from caffe2lite.cli.common import load_graph
    from caffe2lite.draw.render import GraphvizNotFoundError

    parser = argparse.ArgumentParser(description="Caffe2 net drawer.")
    parser.add_argument("--input", required=True, help="The input protobuf file.")
    parser.add_argument(
        "--output_prefix", default="", help="Prefix of the output files."
    )
    parser.add_argument("--minimal", action="store_true", help="Draw ops only.")
    parser.add_argument(
        "--minimal_dependency",
        action="store_true",
        help="Only the minimal dependencies.",
    )
    parser.add_argument("--rankdir", default="LR", help="The rank direction.")
    args = parser.parse_args(argv)
    found = load_graph(args.input)
    if isinstance(found, caffe2_pb2.PlanDef):
        graphs = GetOperatorMapForPlan(found)
    else:
        graphs = {found.name: found.op}
    for key, operators in graphs.items():
        net = caffe2_pb2.NetDef(name=key, op=operators)
        drawing = _graph.build_graph(
            net,
            key,
            rankdir=args.rankdir,
            minimal=args.minimal,
            minimal_dependency=args.minimal_dependency,
        )
        filename = f"{args.output_prefix}{key}.dot"
        drawing.write(filename, format="raw")
        print(f"wrote {filename}")
        try:
            drawing.write(filename[:-3] + "pdf", format="pdf")
            print(f"wrote {filename[:-3]}pdf")
        except GraphvizNotFoundError as e:
            print(f"{filename[:-3]}pdf not written: {e}")
    return 0


__all__ = [
    "BLOB_STYLE",
    "OP_STYLE",
    "GetBlobNodeProducer",
    "GetOpNodeProducer",
    "GetOperatorMapForPlan",
    "GetPydotGraph",
    "GetPydotGraphMinimal",
]


if __name__ == "__main__":
    raise SystemExit(main())
