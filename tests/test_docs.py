"""The documentation site's generated pages: operator catalogue, guide, CLI help."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from caffe2lite.schema import registry

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen_op_docs = _load("gen_op_docs", ROOT / "scripts" / "gen_op_docs.py")
site_pages = _load("site_pages", ROOT / "docs" / "_ext" / "pages.py")


@pytest.fixture(scope="module")
def pages():
    return gen_op_docs.pages()


def test_every_operator_has_a_section_and_an_index_row(pages):
    headings = {
        m.group(1)
        for name, text in pages.items()
        if name != "index.md"
        for m in re.finditer(r"(?m)^## .* \{#([\w-]+)\}$", text)
    }
    schemas = list(registry.OPERATORS.values())
    assert headings == {gen_op_docs.anchor(s) for s in schemas}
    rows = [line for line in pages["index.md"].splitlines() if line.startswith("| [")]
    families = {gen_op_docs.family(s) for s in schemas}
    assert len(rows) == len(schemas) + len(families)


def test_links_of_the_index_point_at_sections(pages):
    anchors = {
        (name, m.group(1))
        for name, text in pages.items()
        for m in re.finditer(r"(?m)^## .* \{#([\w-]+)\}$", text)
    }
    for page, target in re.findall(r"\]\((\w+\.md)#([\w-]+)\)", pages["index.md"]):
        assert (page, target) in anchors


def test_relu_section(pages):
    text = pages["nn.md"]
    section = text[text.index("## Relu {#Relu}") :].split("\n## ")[0]
    assert "`X -> Y`" in section
    assert "- 0: `X`" in section and "- 0: `Y`" in section
    assert "**In-place**: `X` as `Y`" in section
    assert "ReluGradient(Y, Y_grad) -> X_grad" in section
    assert "input  X = [-1.5, 0, 2] (float32, shape (3,))" in section
    assert "Example: X=\\[-1.5, 0, 2\\] -> Y=\\[0, 0, 2\\]" in section


def test_arguments_show_types_and_defaults(pages):
    section = pages["nn.md"][pages["nn.md"].index("## Elu {#Elu}") :].split("\n## ")[0]
    assert "| `alpha` | float | `1.0` |" in section


@pytest.mark.parametrize(
    "text, markdown",
    [
        ("a*b*c", "a\\*b\\*c"),
        ("x[0] < y", "x\\[0\\] &lt; y"),
        ("keep `a*b < c` as code", "keep `a*b < c` as code"),
        ("one ` backtick", "one \\` backtick"),
    ],
)
def test_prose_escapes_markup_outside_code(text, markdown):
    assert gen_op_docs.prose(text) == markdown


def test_script_writes_the_pages(tmp_path, capsys):
    assert gen_op_docs.main(["--out", str(tmp_path)]) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "index.md" in written and "nn.md" in written
    assert capsys.readouterr().out.startswith(f"wrote {len(written)} pages to ")


def test_guide_is_the_readme_user_sections():
    guide = site_pages.guide()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## What caffe2lite is" in guide and "## Command line" in guide
    assert "## Supported operators" not in guide
    assert "## Contributing" not in guide
    assert "](docs/" not in guide
    assert guide.count("\n## ") == readme.count("\n## ") - 2


def test_cli_page_has_every_subcommand():
    text = site_pages.cli()
    for name in ("run", "inspect", "draw", "ops", "convert"):
        assert f"## caffe2lite {name}" in text


@pytest.mark.parametrize(
    "docstring, markdown",
    [
        (":func:`f` and :class:`~a.b.C`", "`f` and `C`"),
        ("Text::\n\n    code", "Text:\n\n    code"),
        ("Doc.\n>>> f()\n1", "Doc.\n\n```pycon\n>>> f()\n1\n```"),
        ("  >>> g()\n  2\n\nEnd.", "  ```pycon\n  >>> g()\n  2\n  ```\n\nEnd."),
    ],
)
def test_docstrings_become_markdown(docstring, markdown):
    pytest.importorskip("griffe", reason="griffe (mkdocstrings) is not installed")
    rst = _load("rst_docstrings", ROOT / "docs" / "_ext" / "rst_docstrings.py")
    assert rst.to_markdown(docstring) == markdown
