"""``caffe2lite draw``: pictures of nets from the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from c2l_test_support.cli import run
from c2l_test_support.realnets import REALNETS

from caffe2lite.draw import parse_dot
from caffe2lite.protoio import load_net, load_plan

CTR = Path(__file__).resolve().parents[1] / "examples" / "ctr_model"
HAS_DOT = shutil.which("dot") is not None
NO_DOT = "Graphviz's dot program is not installed"
MISSING = (
    "caffe2lite: error: writing {} needs the Graphviz 'dot' program, which is not "
    'installed; install it with: pip install "caffe2lite[draw]" and the Graphviz '
    "system package (apt-get install graphviz; brew install graphviz on macOS), or "
    "write a .dot file instead\n"
)


def _no_graphviz(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setitem(sys.modules, "graphviz", None)


def test_dot_of_the_ctr_training_net(capsys, tmp_path):
    out = tmp_path / "ctr.dot"
    status, stdout, err = run(
        capsys,
        "draw",
        str(CTR / "train_net.pbtxt"),
        "--init",
        str(CTR / "init_net.pbtxt"),
        "-o",
        str(out),
    )
    assert (status, err) == (0, "")
    assert stdout == f"wrote {out}: net 'ctr_train' (31 ops, 51 blobs)\n"
    parsed = parse_dot(out.read_text())
    net = load_net(CTR / "train_net.pbtxt")
    for i, op in enumerate(net.op):
        assert f"{op.type} (op#{i})" in parsed.nodes
    labels = {
        a["label"]
        for a in parsed.nodes.values()
        if a["comment"] not in ("op", "gradient op")
    }
    assert labels == {b for op in net.op for b in (*op.input, *op.output)}
    assert parsed.graph_attrs == {"rankdir": "LR"}
    assert parsed.nodes["fc1_w"]["comment"] == "parameter"
    assert parsed.nodes["dense"]["comment"] == "input"


def test_dot_does_not_need_graphviz(capsys, tmp_path, monkeypatch):
    _no_graphviz(monkeypatch)
    out = tmp_path / "ctr.gv"
    status, _, err = run(
        capsys, "draw", str(CTR / "train_net.pbtxt"), "--rankdir", "TB", "-o", str(out)
    )
    assert (status, err) == (0, "")
    assert parse_dot(out.read_text()).graph_attrs == {"rankdir": "TB"}


@pytest.mark.parametrize("ext", ["svg", "png", "pdf"])
def test_missing_graphviz_says_how_to_install_it(capsys, tmp_path, monkeypatch, ext):
    _no_graphviz(monkeypatch)
    out = tmp_path / f"ctr.{ext}"
    status, stdout, err = run(
        capsys, "draw", str(CTR / "train_net.pbtxt"), "-o", str(out)
    )
    assert (status, stdout, err) == (2, "", MISSING.format(ext.upper()))
    assert not out.exists()


def test_missing_graphviz_from_a_shell(tmp_path):
    """The installed command, with a PATH where there is no Graphviz."""
    bare = tmp_path / "bin"
    bare.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys; sys.modules['graphviz'] = None; "
                "from caffe2lite.cli.main import main; sys.exit(main())"
            ),
            "draw",
            str(CTR / "train_net.pbtxt"),
            "-o",
            str(tmp_path / "x.svg"),
        ],
        capture_output=True,
        text=True,
        env={"PATH": str(bare)},
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", MISSING.format("SVG"))


@pytest.mark.skipif(not HAS_DOT, reason=NO_DOT)
def test_svg_of_the_ctr_training_net(capsys, tmp_path):
    out = tmp_path / "ctr.svg"
    status, _, err = run(
        capsys,
        "draw",
        str(CTR / "train_net.pbtxt"),
        "--init",
        str(CTR / "init_net.pbtxt"),
        "-o",
        str(out),
    )
    assert (status, err) == (0, "")
    svg = out.read_text()
    assert "<svg" in svg and "<title>ctr_train</title>" in svg
    net = load_net(CTR / "train_net.pbtxt")
    for i, op in enumerate(net.op):
        assert f"<title>{op.type} (op#{i})</title>" in svg
    for blob in {b for op in net.op for b in (*op.input, *op.output)}:
        assert f">{blob}</text>" in svg


@pytest.mark.skipif(not HAS_DOT, reason=NO_DOT)
@pytest.mark.parametrize("ext,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_png_and_pdf(capsys, tmp_path, ext, magic):
    out = tmp_path / f"net.{ext}"
    status, _, err = run(
        capsys, "draw", str(CTR / "train_net.pbtxt"), "--minimal", "-o", str(out)
    )
    assert (status, err) == (0, "")
    assert out.read_bytes().startswith(magic)


def test_minimal_draws_ops_only(capsys, tmp_path):
    out = tmp_path / "m.dot"
    status, stdout, _ = run(
        capsys, "draw", str(CTR / "train_net.pbtxt"), "--minimal", "-o", str(out)
    )
    assert status == 0 and stdout == f"wrote {out}: net 'ctr_train' (31 ops)\n"
    parsed = parse_dot(out.read_text())
    assert len(parsed.nodes) == 31
    assert ("FC (op#7)", "Relu (op#8)", {}) in parsed.edges


def test_a_plan_draws_each_network(capsys, tmp_path):
    out = tmp_path / "plan.dot"
    status, stdout, _ = run(capsys, "draw", str(CTR / "plan.pbtxt"), "-o", str(out))
    plan = load_plan(CTR / "plan.pbtxt")
    ops = sum(len(n.op) for n in plan.network)
    assert status == 0 and stdout.startswith(
        f"wrote {out}: plan 'ctr_plan' ({ops} ops, "
    )
    labels = {label for label, _ in parse_dot(out.read_text()).clusters.values()}
    assert {f"net {n.name}" for n in plan.network} <= labels


@pytest.mark.skipif(
    REALNETS is None, reason="shared/realnets is not beside the checkout"
)
def test_model_zoo_net(capsys, tmp_path):
    path = REALNETS / "model_zoo" / "resnet50__predict_net.pbtxt"
    out = tmp_path / "resnet50.dot"
    status, _, err = run(capsys, "draw", str(path), "-o", str(out))
    assert (status, err) == (0, "")
    parsed = parse_dot(out.read_text())
    net = load_net(path)
    assert {f"{op.type} (op#{i})" for i, op in enumerate(net.op)} <= set(parsed.nodes)
    blobs = {b for op in net.op for b in (*op.input, *op.output)}
    assert blobs <= {a["label"] for a in parsed.nodes.values()}
    assert [label for label, _ in parsed.clusters.values()] == ["gpu_0/"]


def test_usage_errors(capsys, tmp_path):
    net = str(CTR / "train_net.pbtxt")
    status, _, err = run(capsys, "draw", net, "-o", str(tmp_path / "x.jpg"))
    assert (status, err) == (
        2,
        (
            f"caffe2lite: error: cannot tell the picture format of "
            f"'{tmp_path / 'x.jpg'}': give a file ending in .svg, "
            ".png, .pdf or .dot\n"
        ),
    )
    missing = tmp_path / "no" / "x.dot"
    status, _, err = run(capsys, "draw", net, "-o", str(missing))
    assert (status, err) == (
        2,
        (
            f"caffe2lite: error: cannot write '{missing}': folder "
            f"'{missing.parent}' does not exist\n"
        ),
    )
    status, _, err = run(capsys, "draw", net)
    assert status == 2 and "the following arguments are required: -o/--output" in err
    status, _, err = run(capsys, "draw", net, "--rankdir", "XY", "-o", "x.dot")
    assert status == 2 and "argument --rankdir: invalid choice: 'XY'" in err
