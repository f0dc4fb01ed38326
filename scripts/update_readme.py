"""Regenerate the operator table of README.md from the operator registry.

The table sits between the markers ``<!-- ops:start -->`` and ``<!-- ops:end -->``
and is exactly what ``caffe2lite ops --markdown`` prints. Run after adding or
changing an operator:

    python scripts/update_readme.py           # rewrite README.md
    python scripts/update_readme.py --check   # exit 1 if README.md is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from caffe2lite.cli.ops import ops_markdown

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- ops:start -->", "<!-- ops:end -->"


def render(text: str, table: str) -> str:
    """``text`` with the part between the markers replaced by ``table``.

    >>> render("a\\n<!-- ops:start -->\\nold\\n<!-- ops:end -->\\nb\\n", "new\\n")
    'a\\n<!-- ops:start -->\\nnew\\n<!-- ops:end -->\\nb\\n'
    """
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"README.md must contain the markers {START} and {END}")
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    """Rewrite README.md (or, with ``--check``, report whether it is stale)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if README.md is stale"
    )
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    text = args.readme.read_text(encoding="utf-8")
    fresh = render(text, ops_markdown())
    if fresh == text:
        print(f"{args.readme.name} is up to date")
        return 0
    if args.check:
        print(
            f"{args.readme.name} is stale: run python scripts/update_readme.py",
            file=sys.stderr,
        )
        return 1
    args.readme.write_text(fresh, encoding="utf-8")
    print(f"updated the operator table of {args.readme.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
