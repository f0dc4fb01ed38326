"""A NetDef (or a plan's nets) as a :class:`~caffe2lite.draw.dot.DotGraph`.

Ops and blobs are nodes, with edges blob -> op for inputs and op -> blob for outputs.
A blob written again gets a new node each time (``name``, then ``name#1``,
``name#2`` ...), so in-place updates read left to right. Node IDs of ops are Caffe2's
net_drawer names, ``Type (op#i)`` or ``name/Type (op#i)`` (prefixed ``[net] `` when
several nets are drawn together).

Each node's ``comment`` attribute says what it is, and its style shows it:

- ``op``: a green box labelled with the op type, its name, engine and key arguments;
  ``gradient op`` (``is_gradient_op`` set, or a type ending in ``Gradient`` other
  than the forward op ``StopGradient``): red;
- ``input``: an external input (a blob read before anything in the net writes it
  that is not a parameter), filled blue;
- ``parameter``: a blob read before anything writes it that the init net makes, or
  that the net updates later (a weight a training net changes, an iteration counter);
  without an init net also one read only as a weight (a Conv's or FC's filter and
  bias, a SpatialBN's scale, bias, mean and variance, a SparseLengths op's table
  ...) or not among the net's declared external inputs; filled yellow;
- ``output``: an external output (its last version), drawn with a double border;
- ``blob``: any other blob, a plain octagon.

Name scopes, the ``a/`` and ``a/b/`` prefixes of blob names (and of op names, or for
an op without a scoped name the scope of its first output), are drawn as nested
clusters.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from caffe2lite.draw.dot import DotGraph, Edge, Node
from caffe2lite.io.arguments import argument_value
from caffe2lite.proto import caffe2_pb2

OP_STYLE = {
    "shape": "box",
    "color": "#0F9D58",
    "style": "filled",
    "fontcolor": "#FFFFFF",
}
GRADIENT_OP_STYLE = {**OP_STYLE, "color": "#DB4437"}
BLOB_STYLE = {"shape": "octagon"}
INPUT_STYLE = {**BLOB_STYLE, "style": "filled", "fillcolor": "#C6DAFC"}
PARAMETER_STYLE = {**BLOB_STYLE, "style": "filled", "fillcolor": "#FCE8B2"}
OUTPUT_STYLE = {"peripheries": "2"}
CLUSTER_STYLE = {"style": "rounded", "color": "#9E9E9E", "fontcolor": "#616161"}

# Arguments that only steer an engine: left off op labels.
ENGINE_HINTS = frozenset(
    {
        "use_cudnn",
        "cudnn_exhaustive_search",
        "exhaustive_search",
        "ws_nbytes_limit",
        "shard_id",
        "engine",
        "float16_compute",
        "deterministic",
    }
)
MAX_ARGS = 4  # arguments shown on an op's label
MAX_VALUE = 24  # characters of one argument's value

OpNodeProducer = Callable[[caffe2_pb2.OperatorDef, int], Any]
BlobNodeProducer = Callable[[str, str], Any]


def is_gradient_op(op: caffe2_pb2.OperatorDef) -> bool:
    """Whether ``op`` belongs to a backward pass."""
    if op.is_gradient_op:
        return True
    return op.type.endswith("Gradient") and op.type != "StopGradient"


def op_node_name(op: caffe2_pb2.OperatorDef, op_id: int) -> str:
    """Caffe2's net_drawer name of an op node."""
    if op.name:
        return f"{op.name}/{op.type} (op#{op_id})"
    return f"{op.type} (op#{op_id})"


def _value(value: Any) -> str:
    if isinstance(value, float):
        text = str(np.float32(value))
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, caffe2_pb2.NetDef):
        text = f"net {value.name}"
    elif isinstance(value, caffe2_pb2.TensorProto):
        text = "tensor"
    elif isinstance(value, list):
        shown = ", ".join(_value(v) for v in value[:4])
        text = f"[{shown}{', ...' if len(value) > 4 else ''}]"
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def key_arguments(op: caffe2_pb2.OperatorDef) -> list[str]:
    """The arguments shown on an op's label, as ``name=value`` (at most MAX_ARGS)."""
    shown = []
    for arg in op.arg:
        if arg.name in ENGINE_HINTS:
            continue
        value = argument_value(arg)
        if arg.name == "order" and value in (b"NCHW", "NCHW"):
            continue
        shown.append(f"{arg.name}={_value(value)}")
    if len(shown) > MAX_ARGS:
        shown = shown[: MAX_ARGS - 1] + [f"... {len(shown) - MAX_ARGS + 1} more"]
    return shown


def op_label(op: caffe2_pb2.OperatorDef) -> str:
    """An op node's label: type, then name, engine and key arguments, one a line."""
    lines = [op.type]
    if op.name:
        lines.append(op.name)
    if op.engine:
        lines.append(f"engine={op.engine}")
    return "\n".join(lines + key_arguments(op))


def scope_of(name: str) -> tuple[str, ...]:
    """The nested name scopes of a blob or op name: ``a/b/x`` -> (``a/``, ``a/b/``)."""
    parts = name.split("/")[:-1]
    return tuple("/".join(parts[: i + 1]) + "/" for i in range(len(parts)) if parts[i])


def _op_scope(op: caffe2_pb2.OperatorDef) -> tuple[str, ...]:
    if "/" in op.name:
        return scope_of(op.name)
    if op.output:
        return scope_of(op.output[0])
    return scope_of(op.input[0]) if op.input else ()


# Inputs that hold weights (by index), for telling parameters from data when no init
# net is given: filters and biases, normalisation scales, embedding tables.
_WEIGHTS = {
    **{
        t: (1, 2)
        for t in (
            "Conv",
            "Conv1D",
            "Conv2D",
            "Conv3D",
            "ConvRelu",
            "ConvTranspose",
            "FC",
            "FCTransposed",
            "AffineChannel",
            "GroupNorm",
            "InstanceNorm",
            "LayerNorm",
        )
    },
    "SpatialBN": (1, 2, 3, 4),
    "PRelu": (1,),
}


def weight_inputs(op: caffe2_pb2.OperatorDef) -> tuple[int, ...]:
    """The indices of ``op``'s inputs that hold weights."""
    if op.type.startswith("SparseLengths") and not op.type.endswith("Gradient"):
        return (0,)  # the embedding table
    return _WEIGHTS.get(op.type, ())


def blob_roles(
    nets: Sequence[caffe2_pb2.NetDef], init_net: caffe2_pb2.NetDef | None = None
) -> dict[str, set[str]]:
    """``{blob: roles}`` with roles among ``input``, ``parameter``, ``output`` (see
    the module doc)."""
    made_by_init = {b for op in (init_net.op if init_net else []) for b in op.output}
    declared = {b for net in nets for b in net.external_input}
    written: set[str] = set()
    sources: list[str] = []
    updated: set[str] = set()
    as_data: set[str] = set()  # sources read somewhere other than as a weight
    for net in nets:
        for op in net.op:
            weights = weight_inputs(op)
            for i, b in enumerate(op.input):
                if b not in written and b not in sources:
                    sources.append(b)
                if b not in written and i not in weights:
                    as_data.add(b)
            for b in op.output:
                if b in sources:
                    updated.add(b)
                written.add(b)
    roles: dict[str, set[str]] = defaultdict(set)
    for b in sources:
        if init_net is not None:
            param = b in made_by_init or b in updated
        else:
            param = (
                b in updated or b not in as_data or bool(declared and b not in declared)
            )
        roles[b].add("parameter" if param else "input")
    for net in nets:
        for b in net.external_output:
            roles[b].add("output")
    return dict(roles)


def _plain(value: Any) -> str:
    """A pydot-style value (possibly already quoted) as plain text."""
    text = str(value)
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    return text


def _as_node(made: Any) -> Node:
    """A producer's node (ours or pydot's; values in quotes are quoted DOT text, as
    Caffe2's producers gave them) as a Node."""
    attrs = {k: _plain(v) for k, v in made.get_attributes().items()}
    return Node(_plain(made.get_name()), attrs)


def _default_blob_style(roles: set[str], first: bool, last: bool) -> dict[str, str]:
    if first and "parameter" in roles:
        style, kind = dict(PARAMETER_STYLE), "parameter"
    elif first and "input" in roles:
        style, kind = dict(INPUT_STYLE), "input"
    else:
        style, kind = dict(BLOB_STYLE), "blob"
    if last and "output" in roles:
        style.update(OUTPUT_STYLE)
        kind = "output" if kind == "blob" else f"{kind}, output"
    style["comment"] = kind
    return style


def build_graph(
    nets: Sequence[caffe2_pb2.NetDef] | caffe2_pb2.NetDef,
    name: str,
    *,
    rankdir: str = "LR",
    init_net: caffe2_pb2.NetDef | None = None,
    minimal: bool = False,
    minimal_dependency: bool = False,
    op_node_producer: OpNodeProducer | None = None,
    blob_node_producer: BlobNodeProducer | None = None,
    clusters: bool = True,
) -> DotGraph:
    """The drawing of ``nets`` (one NetDef, or several drawn as one flow of ops, each
    in a cluster of its own). ``minimal`` draws ops only, with an edge from the op
    that last wrote a blob to each op that reads it (``minimal_dependency``: only
    edges not implied by others). Producers, as in Caffe2's net_drawer, make the
    nodes instead of the default styles (anything with ``get_name()`` and
    ``get_attributes()``)."""
    if isinstance(nets, caffe2_pb2.NetDef):
        nets = [nets]
    graph = DotGraph(name, rankdir=rankdir)
    roles = blob_roles(nets, init_net)
    several = len(nets) > 1
    last_version: dict[str, int] = {}
    for net in nets:
        for op in net.op:
            for b in op.output:
                last_version[b] = last_version.get(b, 0) + 1
    blob_ids: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    writes: dict[str, int] = defaultdict(int)
    producer_of: dict[str, str] = {}
    ancestry: dict[str, set[str]] = defaultdict(set)

    def blob_node(blob: str, cluster: tuple[str, ...]) -> str:
        version = counts[blob]
        node_id = blob if version == 0 else f"{blob}#{version}"
        is_last = writes[blob] == last_version.get(blob, 0)
        if blob_node_producer is not None:
            node = _as_node(blob_node_producer(node_id, json.dumps(blob)))
        else:
            node = Node(
                node_id,
                {
                    "label": blob,
                    **_default_blob_style(
                        roles.get(blob, set()), version == 0, is_last
                    ),
                },
            )
        graph.add_node(node, cluster)
        blob_ids[blob] = node.name
        return node.name

    for net in nets:
        net_cluster = (f"net {net.name}",) if several else ()
        for op_id, op in enumerate(net.op):
            scope = _op_scope(op) if clusters else ()
            if op_node_producer is not None:
                op_node = _as_node(op_node_producer(op, op_id))
            else:
                style = GRADIENT_OP_STYLE if is_gradient_op(op) else OP_STYLE
                kind = "gradient op" if is_gradient_op(op) else "op"
                op_node = Node(
                    op_node_name(op, op_id),
                    {"label": op_label(op), **style, "comment": kind},
                )
            if several:
                op_node.name = f"[{net.name}] {op_node.name}"
            graph.add_node(op_node, net_cluster + scope)
            if minimal:
                parents = list(
                    dict.fromkeys(producer_of[b] for b in op.input if b in producer_of)
                )
                for p in parents:
                    ancestry[op_node.name] |= {p} | ancestry[p]
                for p in parents:
                    if minimal_dependency and any(p in ancestry[o] for o in parents):
                        continue
                    graph.add_edge(Edge(p, op_node.name))
                for b in op.output:
                    producer_of[b] = op_node.name
                continue
            for b in op.input:
                src = blob_ids.get(b)
                if src is None:
                    src = blob_node(b, scope_of(b) if clusters else ())
                graph.add_edge(Edge(src, op_node.name))
            for b in op.output:
                if b in blob_ids:
                    counts[b] += 1
                writes[b] += 1
                dst = blob_node(b, scope_of(b) if clusters else ())
                graph.add_edge(Edge(op_node.name, dst))
    return graph
