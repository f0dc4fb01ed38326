"""Pictures of nets: a NetDef as Graphviz DOT (written by our own code, no extra
dependency), rendered to SVG, PNG or PDF when Graphviz is installed.

>>> from caffe2lite import core
>>> net = core.Net("n"); _ = net.Relu("X", "Y")
>>> text = net_to_dot(net.Proto())
>>> sorted(parse_dot(text).nodes)
['Relu (op#0)', 'X', 'Y']
"""

from __future__ import annotations

from typing import Any

from caffe2lite.draw.dot import (
    Cluster,
    DotGraph,
    Edge,
    Node,
    ParsedDot,
    parse_dot,
    quote,
)
from caffe2lite.draw.graph import (
    BLOB_STYLE,
    GRADIENT_OP_STYLE,
    INPUT_STYLE,
    OP_STYLE,
    PARAMETER_STYLE,
    blob_roles,
    build_graph,
    is_gradient_op,
    op_label,
)
from caffe2lite.draw.render import (
    GraphvizNotFoundError,
    can_render,
    missing_graphviz_message,
    render,
)


def net_to_dot(net: Any, name: str | None = None, **options: Any) -> str:
    """The DOT text of a NetDef (options as :func:`build_graph`)."""
    return build_graph(
        net, name if name is not None else (net.name or "net"), **options
    ).to_string()


__all__ = [
    "BLOB_STYLE",
    "GRADIENT_OP_STYLE",
    "INPUT_STYLE",
    "OP_STYLE",
    "PARAMETER_STYLE",
    "Cluster",
    "DotGraph",
    "Edge",
    "GraphvizNotFoundError",
    "Node",
    "ParsedDot",
    "blob_roles",
    "build_graph",
    "can_render",
    "is_gradient_op",
    "missing_graphviz_message",
    "net_to_dot",
    "op_label",
    "parse_dot",
    "quote",
    "render",
]
