"""mkdocs hook: the pages made from other sources at each build, never committed.

- ``guide.md``: the user sections of README.md (everything from "What caffe2lite
  is" up to "Contributing", less the operator table, which the catalogue replaces),
  so the site and the README never disagree;
- ``cli.md``: the help of the ``caffe2lite`` command and of each subcommand, as
  argparse prints it.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# README sections (level-2 headings) left out of the guide.
SKIPPED = ("Supported operators", "Contributing")


def guide() -> str:
    """The README's user sections, with links made to work inside the site."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = re.split(r"(?m)^(?=## )", text)
    kept = [
        s
        for s in sections[1:]
        if not any(s.startswith(f"## {name}") for name in SKIPPED)
    ]
    body = "".join(kept)
    body = body.replace("](docs/", "](")  # images live in docs/ beside the pages
    body = body.replace("](#supported-operators)", "](operators/index.md)")
    head = (
        "# Guide\n\n"
        "The user sections of the project's README.md, as they stand in this "
        "version (the operator table is the [catalogue](operators/index.md)).\n\n"
    )
    return head + body


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli() -> str:
    """The command's help and each subcommand's, in code blocks."""
    from caffe2lite.cli.main import build_parser

    # argparse wraps to the terminal's width: a fixed one gives the same page anywhere.
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        return _cli_text(build_parser())
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def _cli_text(parser: argparse.ArgumentParser) -> str:
    parser.prog = "caffe2lite"
    parts = [
        "# Command line",
        "",
        (
            "`caffe2lite` (also `python -m caffe2lite`) runs, inspects, draws, "
            "converts and scores Caffe2 nets and lists the operators. The help "
            "below is what the installed command prints; the "
            "[guide](guide.md#command-line) walks through it on the bundled example."
        ),
        "",
        "```text",
        parser.format_help().rstrip(),
        "```",
    ]
    for name, sub in _subcommands(parser).items():
        parts += [
            "",
            f"## caffe2lite {name}",
            "",
            "```text",
            sub.format_help().rstrip(),
        ]
        parts.append("```")
    return "\n".join(parts) + "\n"


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    for uri, make in (("guide.md", guide), ("cli.md", cli)):
        old = files.get_file_from_path(uri)
        if old is not None:
            files.remove(old)
        files.append(File.generated(config, uri, content=make()))
    return files
