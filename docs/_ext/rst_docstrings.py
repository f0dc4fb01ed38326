"""Read caffe2lite's reStructuredText-flavoured docstrings as Markdown for mkdocstrings.

The docstrings are written for ``help()`` and doctest: Sphinx roles
(``:func:`CreateOperator```), ``::`` before literal blocks and ``>>>`` examples.
This griffe extension (``extensions:`` in mkdocs.yml) rewrites each docstring's
text before it is rendered: roles become plain code spans, doctest runs become
``pycon`` code blocks, ``::`` becomes ``:``. Nothing in the package changes.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# :func:`x`, :class:`~a.b.C`, :mod:`a.b` ... -> `x`, `C`, `a.b`
ROLE = re.compile(r":(?:py:)?[a-z]+:`~?([^`]+)`")


def _role(match: re.Match[str]) -> str:
    target = match.group(1)
    if match.group(0).startswith((":class:`~", ":func:`~", ":meth:`~", ":attr:`~")):
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def to_markdown(text: str) -> str:
    """``text`` with roles as code spans and doctest runs fenced.

    >>> to_markdown("Call :func:`f`::\\n\\n>>> f()\\n1\\n\\nDone.")
    'Call `f`:\\n\\n```pycon\\n>>> f()\\n1\\n```\\n\\nDone.'
    """
    lines = ROLE.sub(_role, text).splitlines()
    out: list[str] = []
    fence = None  # the indentation of the open ```pycon block
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if fence is None and stripped.startswith(">>>"):
            if out and out[-1].strip():
                out.append("")
            out.append(f"{indent}```pycon")
            fence = indent
        elif fence is not None and not stripped:
            out.append(f"{fence}```")
            fence = None
        if fence is None and stripped.endswith("::") and not stripped.startswith(">>>"):
            line = line[:-1]
        out.append(line)
    if fence is not None:
        out.append(f"{fence}```")
    return "\n".join(out)


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of the loaded package with :func:`to_markdown`."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and not getattr(obj.docstring, "_md", False):
            obj.docstring.value = to_markdown(obj.docstring.value)
            obj.docstring._md = True  # type: ignore[attr-defined]
