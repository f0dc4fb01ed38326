"""A small Graphviz DOT model: nodes, edges and nested clusters, written out as DOT
text with every identifier and value quoted, and read back by :func:`parse_dot`.

Quoting: every ID and attribute value is written in double quotes, with ``\\``
written ``\\\\``, ``"`` written ``\\"`` and a line break written ``\\n`` (which
Graphviz shows as a line break in a label). :func:`parse_dot` undoes exactly that, so
``parse_dot(g.to_string())`` gives back every name and label as it was given.

>>> g = DotGraph("n", rankdir="LR")
>>> g.add_node(Node("gpu_0/conv1_w", {"label": 'say "hi"'}))
>>> print(g.to_string().splitlines()[2])
  "gpu_0/conv1_w" [label="say \\"hi\\""];
>>> parse_dot(g.to_string()).nodes["gpu_0/conv1_w"]["label"]
'say "hi"'
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


def quote(text: Any) -> str:
    """``text`` as a quoted DOT string (see the module doc for the escapes)."""
    s = str(text).replace("\\", "\\\\").replace('"', '\\"')
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return f'"{s}"'


def _attrs(attrs: dict[str, Any]) -> str:
    if not attrs:
        return ""
    return " [" + ", ".join(f"{k}={quote(v)}" for k, v in attrs.items()) + "]"


@dataclass
class Node:
    """A node: its ID and attributes (a subset of pydot.Node's reading methods)."""

    name: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def get_name(self) -> str:
        return self.name

    def get_attributes(self) -> dict[str, Any]:
        return self.attrs

    def get(self, key: str) -> Any:
        return self.attrs.get(key)


@dataclass
class Edge:
    """An edge from one node ID to another."""

    src: str
    dst: str
    attrs: dict[str, Any] = field(default_factory=dict)

    def get_source(self) -> str:
        return self.src

    def get_destination(self) -> str:
        return self.dst


@dataclass
class Cluster:
    """A cluster subgraph: a label, the node IDs directly inside, nested clusters."""

    label: str
    attrs: dict[str, Any] = field(default_factory=dict)
    nodes: list[str] = field(default_factory=list)
    clusters: dict[str, Cluster] = field(default_factory=dict)


class DotGraph:
    """A directed graph with graph attributes, nodes, edges and clusters.

    Methods named as pydot.Dot's (``get_name``, ``get_nodes``, ``get_edges``,
    ``to_string``, ``create``, ``write`` and ``write_<format>``) let code written for
    Caffe2's net_drawer use it when pydot is not installed."""

    def __init__(self, name: str, **graph_attrs: Any) -> None:
        self.name = name
        self.graph_attrs: dict[str, Any] = dict(graph_attrs)
        self.node_attrs: dict[str, Any] = {}
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.root = Cluster(label="")

    def get_name(self) -> str:
        return self.name

    def get_nodes(self) -> list[Node]:
        return list(self.nodes.values())

    def get_node(self, name: str) -> list[Node]:
        return [self.nodes[name]] if name in self.nodes else []

    def get_edges(self) -> list[Edge]:
        return list(self.edges)

    def add_node(self, node: Node, cluster: tuple[str, ...] = ()) -> None:
        """Add ``node`` (once) inside the cluster at path ``cluster`` (cluster labels
        from the outside in; made when missing)."""
        if node.name in self.nodes:
            self.nodes[node.name].attrs.update(node.attrs)
            return
        self.nodes[node.name] = node
        where = self.root
        for label in cluster:
            where = where.clusters.setdefault(label, Cluster(label=label))
        where.nodes.append(node.name)

    def add_edge(self, edge: Edge) -> None:
        self.edges.append(edge)

    def _cluster_lines(
        self, cluster: Cluster, depth: int, counter: list[int]
    ) -> Iterator[str]:
        pad = "  " * depth
        for sub in cluster.clusters.values():
            counter[0] += 1
            yield f"{pad}subgraph {quote(f'cluster_{counter[0]}')} {{"
            attrs = {"label": sub.label, **sub.attrs}
            for key, value in attrs.items():
                yield f"{pad}  {key}={quote(value)};"
            yield from self._cluster_lines(sub, depth + 1, counter)
            yield f"{pad}}}"
        for name in cluster.nodes:
            yield f"{pad}{quote(name)}{_attrs(self.nodes[name].attrs)};"

    def to_string(self) -> str:
        """The graph as DOT text."""
        lines = [f"digraph {quote(self.name)} {{"]
        for key, value in self.graph_attrs.items():
            lines.append(f"  {key}={quote(value)};")
        if self.node_attrs:
            lines.append(f"  node{_attrs(self.node_attrs)};")
        lines.extend(self._cluster_lines(self.root, 1, [0]))
        for edge in self.edges:
            lines.append(
                f"  {quote(edge.src)} -> {quote(edge.dst)}{_attrs(edge.attrs)};"
            )
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_pydot(self, pydot: Any) -> Any:
        """The same graph as a ``pydot.Dot`` (every ID and value passed quoted, which
        pydot keeps as it is). Every node is declared with its attributes in the
        graph itself, so that ``get_nodes()`` and ``get_node(name)`` find them all as
        in Caffe2's drawings, and clusters only name their members."""

        def q(attrs: dict[str, Any]) -> dict[str, str]:
            return {k: quote(v) for k, v in attrs.items()}

        graph = pydot.Dot(quote(self.name), graph_type="digraph", **q(self.graph_attrs))
        if self.node_attrs:
            graph.set_node_defaults(**q(self.node_attrs))
        for node in self.nodes.values():
            graph.add_node(pydot.Node(quote(node.name), **q(node.attrs)))
        counter = [0]

        def fill(target: Any, cluster: Cluster) -> None:
            for sub in cluster.clusters.values():
                counter[0] += 1  # pydot names it cluster_<n>
                made = pydot.Cluster(
                    str(counter[0]), **q({"label": sub.label, **sub.attrs})
                )
                fill(made, sub)
                target.add_subgraph(made)
            if target is not graph:
                for name in cluster.nodes:
                    target.add_node(pydot.Node(quote(name)))

        fill(graph, self.root)
        for edge in self.edges:
            graph.add_edge(
                pydot.Edge(quote(edge.src), quote(edge.dst), **q(edge.attrs))
            )
        return graph

    def create(self, format: str = "svg", prog: str = "dot") -> bytes:
        """The graph rendered by Graphviz (``format`` ``raw``/``dot`` gives the text)."""
        from caffe2lite.draw.render import render

        return render(self.to_string(), format)

    def write(self, path: str, format: str = "raw", prog: str = "dot") -> None:
        """Write the graph to ``path`` in ``format`` (``raw`` or ``dot``: DOT text)."""
        with open(path, "wb") as f:
            f.write(self.create(format))

    def __getattr__(self, attr: str) -> Any:
        for verb in ("write_", "create_"):
            if attr.startswith(verb) and len(attr) > len(verb):
                fmt = attr[len(verb) :]
                if verb == "write_":
                    return lambda path, prog="dot": self.write(path, format=fmt)
                return lambda prog="dot": self.create(fmt)
        raise AttributeError(attr)


# -- reading DOT back ------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s+|//[^\n]*|/\*.*?\*/|#[^\n]*"
    r'|(?P<q>"(?:[^"\\]|\\.)*")|(?P<op>->|--|[{}\[\];,=])|(?P<id>[^\s{}\[\];,="]+)',
    re.DOTALL,
)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unquote(token: str) -> str:
    if token.startswith('"'):
        inner = token[1:-1]
        return _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), inner)
    return token


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read DOT text at {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("q") is not None:  # quoted: never a keyword
            out.append(("qid", _unquote(m.group("q"))))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        elif m.group("id") is not None:
            out.append(("id", m.group("id")))
    return out


@dataclass
class ParsedDot:
    """What :func:`parse_dot` found: graph name and attributes, nodes (ID ->
    attributes), edges (source, destination, attributes) and, for every cluster
    ID, its label and the node IDs inside it (nested clusters included)."""

    name: str
    graph_attrs: dict[str, str]
    nodes: dict[str, dict[str, str]]
    edges: list[tuple[str, str, dict[str, str]]]
    clusters: dict[str, tuple[str, list[str]]]


def parse_dot(text: str) -> ParsedDot:
    """Read the DOT subset :class:`DotGraph` writes (and most plain digraphs):
    statements ``a [k=v];``, ``a -> b [k=v];``, ``k=v;``, ``node/edge/graph [..];``
    and nested ``subgraph`` blocks."""
    toks = _tokens(text)
    i = 0

    def take(kind: str | None = None, value: str | None = None) -> str:
        nonlocal i
        if i >= len(toks):
            raise ValueError("DOT text ends too early")
        tok = toks[i]
        found = "id" if tok[0] == "qid" else tok[0]
        if (kind and found != kind) or (value and tok[1] != value):
            raise ValueError(f"expected {value or kind}, found {tok[1]!r}")
        i += 1
        return tok[1]

    def attr_list() -> dict[str, str]:
        attrs: dict[str, str] = {}
        while i < len(toks) and toks[i] == ("op", "["):
            take("op", "[")
            while toks[i] != ("op", "]"):
                key = take("id")
                take("op", "=")
                attrs[key] = take("id")
                if toks[i] in (("op", ","), ("op", ";")):
                    take()
            take("op", "]")
        return attrs

    if toks and toks[0] == ("id", "strict"):
        take()
    take("id")  # digraph
    name = take("id") if toks[i][0] != "op" else ""
    result = ParsedDot(name, {}, {}, [], {})
    stack: list[list[str]] = []  # node lists of the open clusters
    take("op", "{")
    depth = 1
    while depth:
        tok = toks[i]
        if tok == ("op", "}"):
            take()
            depth -= 1
            if stack:
                stack.pop()
            continue
        if tok == ("op", ";"):
            take()
            continue
        if tok == ("id", "subgraph"):
            take()
            sub = take("id") if toks[i][0] != "op" else f"anonymous_{i}"
            take("op", "{")
            depth += 1
            members: list[str] = []
            result.clusters[sub] = ("", members)
            stack.append(members)
            continue
        keyword = tok[0] == "id" and tok[1] in ("node", "edge", "graph")
        first = take("id")
        if keyword and toks[i] == ("op", "["):
            attrs = attr_list()
            if first == "graph" and not stack:
                result.graph_attrs.update(attrs)
            continue
        if toks[i] == ("op", "="):
            take()
            value = take("id")
            if stack:
                sub = next(k for k, v in result.clusters.items() if v[1] is stack[-1])
                if first == "label":
                    result.clusters[sub] = (value, stack[-1])
            else:
                result.graph_attrs[first] = value
            continue
        chain = [first]
        while toks[i][0] == "op" and toks[i][1] in ("->", "--"):
            take()
            chain.append(take("id"))
        attrs = attr_list()
        if len(chain) == 1:
            result.nodes.setdefault(first, {}).update(attrs)
            for members in stack:
                members.append(first)
        else:
            for a, b in itertools.pairwise(chain):
                result.nodes.setdefault(a, {})
                result.nodes.setdefault(b, {})
                result.edges.append((a, b, attrs))
    return result
