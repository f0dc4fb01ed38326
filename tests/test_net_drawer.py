"""caffe2lite.net_drawer and caffe2lite.draw: the DOT they write, read back.

DOT text is read back with the package's own small reader, with pydot when it is
installed and with Graphviz itself (``dot -Tjson``) when the ``dot`` program is
there; tests needing either are skipped with the reason otherwise."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from c2l_test_support.realnets import REALNETS

from caffe2lite import core, net_drawer
from caffe2lite.draw import (
    DotGraph,
    GraphvizNotFoundError,
    Node,
    blob_roles,
    build_graph,
    missing_graphviz_message,
    net_to_dot,
    parse_dot,
    render,
)
from caffe2lite.draw.dot import Edge, quote
from caffe2lite.proto import caffe2_pb2
from caffe2lite.protoio import load_net, load_plan

CTR = Path(__file__).resolve().parents[1] / "examples" / "ctr_model"
TRICKY = [
    "gpu_0/conv1_w",
    'say "hi"',
    "back\\slash",
    "ends\\",
    "two\nlines",
    "node",
    "a -> b",
    "x;y{z}[w]=v",
    "ünïcode",
    "",
    "tab\there",
    "1.5",
    "-3",
    "/*c*/",
]
HAS_DOT = shutil.which("dot") is not None
NO_DOT = "Graphviz's dot program is not installed"


def _pydot():
    try:
        import pydot
    except ImportError:
        return None
    return pydot


def _ctr(name: str) -> caffe2_pb2.NetDef:
    return load_net(CTR / name)


def _blob_labels(parsed) -> set[str]:
    return {
        a["label"]
        for a in parsed.nodes.values()
        if a.get("comment") not in ("op", "gradient op")
    }


def _check_names_everything(net: caffe2_pb2.NetDef, parsed) -> None:
    """Every op of ``net`` is a node named as Caffe2's net_drawer names it, every
    blob is the label of a blob node, and every input/output is an edge."""
    for i, op in enumerate(net.op):
        assert net_drawer._graph.op_node_name(op, i) in parsed.nodes, (i, op.type)
    blobs = {b for op in net.op for b in (*op.input, *op.output)}
    assert _blob_labels(parsed) == blobs
    assert len(parsed.edges) == sum(len(op.input) + len(op.output) for op in net.op)


# -- the DOT writer and reader --------------------------------------------------------


def test_quote_escapes_backslash_quote_and_line_breaks():
    assert quote("gpu_0/conv1_w") == '"gpu_0/conv1_w"'
    assert quote('say "hi"') == '"say \\"hi\\""'
    assert quote("a\\b") == '"a\\\\b"'
    assert quote("two\nlines") == '"two\\nlines"'
    assert quote("ends\\") == '"ends\\\\"'


def _tricky_graph() -> DotGraph:
    g = DotGraph('my "net"', rankdir="TB")
    for i, name in enumerate(TRICKY):
        g.add_node(
            Node(name, {"label": f"label of {name}", "comment": str(i)}),
            ("scope/", 'scope/inner "q"/') if i % 2 else (),
        )
    for a, b in itertools.pairwise(TRICKY):
        g.add_edge(Edge(a, b, {"label": a}))
    return g


def test_tricky_names_read_back_exactly():
    parsed = parse_dot(_tricky_graph().to_string())
    assert parsed.name == 'my "net"'
    assert parsed.graph_attrs == {"rankdir": "TB"}
    assert sorted(parsed.nodes) == sorted(TRICKY)
    for i, name in enumerate(TRICKY):
        assert parsed.nodes[name] == {"label": f"label of {name}", "comment": str(i)}
    assert [(a, b, e["label"]) for a, b, e in parsed.edges] == [
        (a, b, a) for a, b in itertools.pairwise(TRICKY)
    ]
    clusters = {label: members for label, members in parsed.clusters.values()}
    assert clusters["scope/"] == TRICKY[1::2]
    assert clusters['scope/inner "q"/'] == TRICKY[1::2]


def test_tricky_names_read_back_by_pydot():
    pydot = _pydot()
    if pydot is None:
        pytest.skip("pydot is not installed (the draw extra)")
    (graph,) = pydot.graph_from_dot_data(_tricky_graph().to_string())
    names = set()

    def walk(g):
        for node in g.get_nodes():
            names.add(node.get_name())
        for sub in g.get_subgraphs():
            walk(sub)

    walk(graph)
    # pydot keeps names as written, quotes and escapes included
    assert {quote(n) for n in TRICKY} <= names


@pytest.mark.skipif(not HAS_DOT, reason=NO_DOT)
def test_tricky_names_read_back_by_graphviz():
    text = _tricky_graph().to_string()
    done = subprocess.run(
        ["dot", "-Tjson"], input=text.encode(), capture_output=True, check=True
    )
    objects = json.loads(done.stdout)["objects"]
    nodes = {
        o["name"]: o
        for o in objects
        if "nodes" not in o and "label" in o and not o["name"].startswith("cluster_")
    }
    # Graphviz keeps \\ in an ID as two characters (only \" is unescaped in IDs), so
    # IDs are compared in their written form; labels are shown as given.
    graphviz_ids = {n.replace("\\", "\\\\").replace("\n", "\\n") for n in TRICKY}
    assert set(nodes) == graphviz_ids
    clusters = {o["label"] for o in objects if o["name"].startswith("cluster_")}
    assert clusters == {"scope/", 'scope/inner "q"/'}


# -- what a net looks like ------------------------------------------------------------


def test_ctr_training_net_names_every_op_and_blob():
    net, init = _ctr("train_net.pbtxt"), _ctr("init_net.pbtxt")
    parsed = parse_dot(net_to_dot(net, init_net=init))
    _check_names_everything(net, parsed)
    kinds = {n: a["comment"] for n, a in parsed.nodes.items()}
    ops = [kinds[net_drawer._graph.op_node_name(op, i)] for i, op in enumerate(net.op)]
    assert ops == ["gradient op" if op.is_gradient_op else "op" for op in net.op]
    assert ops.count("gradient op") == 9
    # the init net's blobs are parameters; data inputs are inputs
    assert {n for n, k in kinds.items() if k == "parameter"} == {
        "emb_0",
        "emb_1",
        "emb_2",
        "fc1_w",
        "fc1_b",
        "fc2_w",
        "fc2_b",
        "ONE",
        "ITER",
    }
    assert {n for n, k in kinds.items() if k == "input"} == {
        "ids_0",
        "lengths_0",
        "ids_1",
        "lengths_1",
        "ids_2",
        "lengths_2",
        "dense",
        "label",
    }
    assert kinds["loss"] == "output"
    assert parsed.nodes["loss"]["peripheries"] == "2"
    # in-place updates are new nodes
    assert parsed.nodes["fc1_w#1"] == {
        "label": "fc1_w",
        "shape": "octagon",
        "comment": "blob",
    }
    assert ("WeightedSum (op#24)", "fc1_w#1", {}) in parsed.edges
    assert ("fc1_w", "WeightedSum (op#24)", {}) in parsed.edges
    assert parsed.nodes["FC (op#7)"]["color"] == "#0F9D58"
    assert parsed.nodes["FCGradient (op#15)"]["color"] == "#DB4437"


def test_gradient_ops_are_told_apart():
    net = caffe2_pb2.NetDef(name="n")
    net.op.add(type="StopGradient", input=["X"], output=["Y"])
    net.op.add(type="ReluGradient", input=["Y", "dY"], output=["dX"])
    net.op.add(type="Sum", input=["dX", "dX"], output=["dZ"], is_gradient_op=True)
    nodes = parse_dot(net_to_dot(net)).nodes
    assert [nodes[f"{op.type} (op#{i})"]["comment"] for i, op in enumerate(net.op)] == [
        "op",
        "gradient op",
        "gradient op",
    ]


def test_op_labels_show_type_and_key_arguments():
    net, init = _ctr("train_net.pbtxt"), _ctr("init_net.pbtxt")
    nodes = parse_dot(net_to_dot(net, init_net=init)).nodes
    assert nodes["SparseDropoutWithReplacement (op#0)"]["label"] == (
        "SparseDropoutWithReplacement\nratio=0.1\nreplacement_value=0"
    )
    assert nodes["Relu (op#8)"]["label"] == "Relu"
    assert nodes["LearningRate (op#23)"]["label"] == (
        "LearningRate\nbase_lr=-0.5\npolicy=step\nstepsize=200\ngamma=0.5"
    )
    op = caffe2_pb2.OperatorDef(
        type="Conv", name="c", engine="NNPACK", input=["X", "W"], output=["Y"]
    )
    for name, value in (
        ("kernel", 3),
        ("pads", [1, 1, 1, 1, 0]),
        ("use_cudnn", 1),
        ("order", b"NCHW"),
        ("stride", 2),
        ("group", 2),
        ("label", b"a long text " * 4),
    ):
        op.arg.append(
            caffe2_pb2.Argument(
                name=name,
                **(
                    {"ints": value}
                    if isinstance(value, list)
                    else {"s": value}
                    if isinstance(value, bytes)
                    else {"i": value}
                ),
            )
        )
    net = caffe2_pb2.NetDef(name="n", op=[op])
    assert parse_dot(net_to_dot(net)).nodes["c/Conv (op#0)"]["label"] == (
        "Conv\nc\nengine=NNPACK\nkernel=3\npads=[1, 1, 1, 1, ...]\nstride=2\n... 2 more"
    )


def test_roles_without_an_init_net():
    roles = blob_roles([_ctr("train_net.pbtxt")])
    # read first, written later by the net: a weight trained in place
    assert roles["fc1_w"] == {"parameter"} and roles["ITER"] == {"parameter"}
    assert roles["ONE"] == {"input"} and roles["dense"] == {"input"}
    assert roles["loss"] == {"output"}
    # a blob the net reads without declaring it is a parameter
    net = caffe2_pb2.NetDef(name="n", external_input=["X"])
    net.op.add(type="FC", input=["X", "W", "b"], output=["Y"])
    assert blob_roles([net]) == {"X": {"input"}, "W": {"parameter"}, "b": {"parameter"}}
    # a blob read only as a weight (a filter, a bias, an embedding table) is one
    net = caffe2_pb2.NetDef(name="n", external_input=["X", "W", "T", "I", "L", "S"])
    net.op.add(type="FC", input=["X", "W", "X"], output=["Y"])
    net.op.add(type="SparseLengthsSum", input=["T", "I", "L"], output=["E"])
    net.op.add(type="Mul", input=["E", "S"], output=["F"])
    assert blob_roles([net]) == {
        "X": {"input"},
        "W": {"parameter"},
        "T": {"parameter"},
        "I": {"input"},
        "L": {"input"},
        "S": {"input"},
    }


@pytest.mark.skipif(
    REALNETS is None, reason="shared/realnets is not beside the checkout"
)
def test_model_zoo_resnet50_names_every_op_and_blob():
    net = load_net(REALNETS / "model_zoo" / "resnet50__predict_net.pbtxt")
    text = net_to_dot(net)
    parsed = parse_dot(text)
    _check_names_everything(net, parsed)
    assert parsed.nodes["gpu_0/softmax"]["comment"] == "output"
    kinds = {n: a["comment"] for n, a in parsed.nodes.items()}
    assert [n for n, k in kinds.items() if k == "input"] == ["gpu_0/data"]
    params = [n for n, k in kinds.items() if k == "parameter"]
    read = {b for op in net.op for b in op.input}
    assert set(params) == read & set(net.external_input) - {"gpu_0/data"}
    assert len(params) == 267 and "gpu_0/conv1_w" in params
    assert "gpu_0/res_conv1_bn_riv" in params
    pydot = _pydot()
    if pydot is None:
        print(
            "pydot is not installed: the DOT is read back by caffe2lite's reader only"
        )
        return
    (graph,) = pydot.graph_from_dot_data(text)
    names = set()
    stack = [graph]
    while stack:
        g = stack.pop()
        names.update(n.get_name().strip('"') for n in g.get_nodes())
        stack.extend(g.get_subgraphs())
    assert {f"{op.type} (op#{i})" for i, op in enumerate(net.op)} <= names


def test_name_scopes_are_nested_clusters():
    net = core.Net("scoped")
    net.Conv(["gpu_0/data", "gpu_0/conv1_w"], "gpu_0/conv1", kernel=3)
    net.Relu("gpu_0/conv1", "gpu_0/res2/relu")
    net.Sum(["gpu_0/res2/relu", "gpu_1/x"], "total")
    parsed = parse_dot(net_to_dot(net.Proto()))
    clusters = {label: set(members) for label, members in parsed.clusters.values()}
    assert clusters == {
        "gpu_0/": {
            "gpu_0/data",
            "gpu_0/conv1_w",
            "Conv (op#0)",
            "gpu_0/conv1",
            "Relu (op#1)",
            "gpu_0/res2/relu",
        },
        "gpu_0/res2/": {"Relu (op#1)", "gpu_0/res2/relu"},
        "gpu_1/": {"gpu_1/x"},
    }
    assert parsed.nodes["Conv (op#0)"]["label"] == "Conv\nkernel=3"
    flat = parse_dot(build_graph(net.Proto(), "flat", clusters=False).to_string())
    assert flat.clusters == {}


def test_named_ops_rewrites_and_rankdir():
    net = core.Net("n")
    net.Relu("X", "X", name="first")
    net.Relu("X", "X")
    parsed = parse_dot(net_to_dot(net.Proto(), rankdir="TB"))
    assert parsed.graph_attrs["rankdir"] == "TB"
    assert list(parsed.nodes) == ["first/Relu (op#0)", "X", "X#1", "Relu (op#1)", "X#2"]
    assert parsed.nodes["first/Relu (op#0)"]["label"] == "Relu\nfirst"
    assert [(a, b) for a, b, _ in parsed.edges] == [
        ("X", "first/Relu (op#0)"),
        ("first/Relu (op#0)", "X#1"),
        ("X#1", "Relu (op#1)"),
        ("Relu (op#1)", "X#2"),
    ]


def test_plans_draw_each_network_in_a_cluster():
    plan = load_plan(CTR / "plan.pbtxt")
    parsed = parse_dot(build_graph(list(plan.network), plan.name).to_string())
    labels = {label for label, _ in parsed.clusters.values()}
    assert {f"net {net.name}" for net in plan.network} <= labels
    first = plan.network[0]
    assert f"[{first.name}] {first.op[0].type} (op#0)" in parsed.nodes


# -- Caffe2's net_drawer functions ----------------------------------------------------


def _chain() -> core.Net:
    net = core.Net("chain")
    net.Relu("X", "A")
    net.Relu("A", "B")
    net.Sum(["A", "B"], "C")
    return net


def test_get_pydot_graph_takes_a_netdef_a_net_or_ops():
    net = _chain()
    chain = net.Proto().name  # core.Net makes names unique: chain, chain_1 ...
    for given, name in (
        (net, chain),
        (net.Proto(), chain),
        (list(net.Proto().op), "unnamed"),
    ):
        graph = net_drawer.GetPydotGraph(given)
        parsed = parse_dot(graph.to_string())
        assert parsed.name == name
        assert set(parsed.nodes) == {
            "X",
            "A",
            "B",
            "C",
            "Relu (op#0)",
            "Relu (op#1)",
            "Sum (op#2)",
        }
    assert parse_dot(net_drawer.GetPydotGraph(net, "other").to_string()).name == "other"


def test_get_pydot_graph_returns_pydot_only_when_installed(monkeypatch):
    pydot = _pydot()
    graph = net_drawer.GetPydotGraph(_chain())
    if pydot is not None:
        assert isinstance(graph, pydot.Dot)
    monkeypatch.setitem(sys.modules, "pydot", None)  # as if not installed
    net = _chain()
    graph = net_drawer.GetPydotGraph(net)
    assert isinstance(graph, DotGraph)
    assert graph.get_name() == net.Proto().name
    assert graph.create_dot() == graph.to_string().encode()
    assert graph.get_node("Sum (op#2)")[0].get("label") == "Sum"


def test_pydot_graph_writes_the_same_dot():
    pydot = _pydot()
    if pydot is None:
        pytest.skip("pydot is not installed (the draw extra)")
    net, init = _ctr("train_net.pbtxt"), _ctr("init_net.pbtxt")
    ours = parse_dot(net_to_dot(net, init_net=init))
    graph = net_drawer.GetPydotGraph(net, init_net=init)
    # every node is in graph.get_nodes(), as in Caffe2's drawings, clusters or not
    assert [n.get_name() for n in graph.get_nodes()] == [quote(n) for n in ours.nodes]
    theirs = parse_dot(graph.to_string())
    assert (theirs.name, theirs.graph_attrs) == (ours.name, ours.graph_attrs)
    assert theirs.nodes == ours.nodes and theirs.edges == ours.edges
    tricky = parse_dot(_tricky_graph().to_pydot(pydot).to_string())
    assert tricky.nodes == parse_dot(_tricky_graph().to_string()).nodes
    assert sorted(tricky.clusters.values()) == sorted(
        parse_dot(_tricky_graph().to_string()).clusters.values()
    )


def test_get_pydot_graph_minimal():
    parsed = parse_dot(net_drawer.GetPydotGraphMinimal(_chain()).to_string())
    assert set(parsed.nodes) == {"Relu (op#0)", "Relu (op#1)", "Sum (op#2)"}
    assert [(a, b) for a, b, _ in parsed.edges] == [
        ("Relu (op#0)", "Relu (op#1)"),
        ("Relu (op#0)", "Sum (op#2)"),
        ("Relu (op#1)", "Sum (op#2)"),
    ]
    parsed = parse_dot(
        net_drawer.GetPydotGraphMinimal(_chain(), minimal_dependency=True).to_string()
    )
    # Sum reads A (op 0) and B (op 1), and op 1 reads A: op 0 -> Sum is implied
    assert [(a, b) for a, b, _ in parsed.edges] == [
        ("Relu (op#0)", "Relu (op#1)"),
        ("Relu (op#1)", "Sum (op#2)"),
    ]


@pytest.mark.parametrize("with_pydot", [True, False])
def test_node_producers(monkeypatch, with_pydot):
    if with_pydot and _pydot() is None:
        pytest.skip("pydot is not installed (the draw extra)")
    if not with_pydot:
        monkeypatch.setitem(sys.modules, "pydot", None)
    graph = net_drawer.GetPydotGraph(
        _chain(),
        op_node_producer=net_drawer.GetOpNodeProducer(True, **net_drawer.OP_STYLE),
        blob_node_producer=net_drawer.GetBlobNodeProducer(**net_drawer.BLOB_STYLE),
    )
    parsed = parse_dot(graph.to_string())
    assert parsed.nodes["Relu (op#0)\nA"] == {
        "shape": "box",
        "color": "#0F9D58",
        "style": "filled",
        "fontcolor": "#FFFFFF",
    }
    assert parsed.nodes["A"] == {"label": "A", "shape": "octagon"}
    assert "Sum (op#2)\nC" in parsed.nodes


def test_styles_and_operator_map_for_plan():
    assert net_drawer.OP_STYLE == {
        "shape": "box",
        "color": "#0F9D58",
        "style": "filled",
        "fontcolor": "#FFFFFF",
    }
    assert net_drawer.BLOB_STYLE == {"shape": "octagon"}
    plan = caffe2_pb2.PlanDef(name="p")
    plan.network.add(name="train").op.add(type="Relu", input=["X"], output=["Y"])
    plan.network.add().op.add(type="Relu", input=["Y"], output=["Z"])
    found = net_drawer.GetOperatorMapForPlan(plan)
    assert list(found) == ["p_train", "p_network_1"]
    assert [op.type for op in found["p_train"]] == ["Relu"]


# -- pictures -------------------------------------------------------------------------


def test_missing_graphviz_message(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(GraphvizNotFoundError) as info:
        render("digraph g {}", "svg")
    assert str(info.value) == (
        "writing SVG needs the Graphviz 'dot' program, which is not installed; "
        'install it with: pip install "caffe2lite[draw]" and the Graphviz system '
        "package (apt-get install graphviz; brew install graphviz on macOS), or write "
        "a .dot file instead"
    )
    assert str(info.value) == missing_graphviz_message("svg")
    assert render("digraph g {}", "dot") == b"digraph g {}"


@pytest.mark.skipif(not HAS_DOT, reason=NO_DOT)
def test_svg_of_the_ctr_net(tmp_path):
    net, init = _ctr("train_net.pbtxt"), _ctr("init_net.pbtxt")
    graph = build_graph(net, net.name, init_net=init)
    svg = graph.create_svg().decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for i, op in enumerate(net.op):
        assert f"<title>{op.type} (op#{i})</title>" in svg
    graph.write_png(str(tmp_path / "ctr.png"))
    assert (tmp_path / "ctr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_writes_a_dot_file_per_network(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    prefix = str(tmp_path / "out_")
    net_drawer.main(
        [
            "--input",
            str(CTR / "plan.pbtxt"),
            "--output_prefix",
            prefix,
            "--minimal",
            "--rankdir",
            "TB",
        ]
    )
    plan = load_plan(CTR / "plan.pbtxt")
    for net in plan.network:
        parsed = parse_dot(Path(f"{prefix}ctr_plan_{net.name}.dot").read_text())
        assert parsed.name == f"ctr_plan_{net.name}"
        assert parsed.graph_attrs == {"rankdir": "TB"}
        assert len(parsed.nodes) == len(net.op)
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        f"wrote {prefix}ctr_plan_ctr_init.dot",
        f"{prefix}ctr_plan_ctr_init.pdf not written: "
        + missing_graphviz_message("pdf"),
    ]
