"""Turning DOT text into a picture with Graphviz.

DOT text needs nothing; SVG, PNG and PDF need Graphviz's ``dot`` program, found on
the ``PATH`` (or, when it is installed, through the ``graphviz`` Python package,
which runs the same program). Without it :class:`GraphvizNotFoundError` says how to
install it.
"""

from __future__ import annotations

import shutil
import subprocess

from caffe2lite.errors import Caffe2LiteError

TEXT_FORMATS = ("dot", "raw", "gv")
PICTURE_FORMATS = ("svg", "png", "pdf")
INSTALL_HINT = (
    'install it with: pip install "caffe2lite[draw]" and the Graphviz system '
    "package (apt-get install graphviz; brew install graphviz on macOS), or write "
    "a .dot file instead"
)


class GraphvizNotFoundError(Caffe2LiteError):
    """Graphviz's ``dot`` program is needed to render a picture and is not installed."""


def missing_graphviz_message(fmt: str) -> str:
    """The message given when a ``fmt`` picture cannot be rendered for want of
    Graphviz."""
    return (
        f"writing {fmt.upper()} needs the Graphviz 'dot' program, which is not "
        f"installed; {INSTALL_HINT}"
    )


def find_dot() -> str | None:
    """The path of Graphviz's ``dot`` program, or None."""
    return shutil.which("dot")


def can_render() -> bool:
    """Whether pictures (SVG, PNG, PDF) can be rendered here."""
    return find_dot() is not None


def render(dot_text: str, fmt: str) -> bytes:
    """``dot_text`` rendered as ``fmt`` (``svg``, ``png``, ``pdf``, or ``dot``/``raw``
    for the text itself)."""
    fmt = fmt.lower()
    if fmt in TEXT_FORMATS:
        return dot_text.encode("utf-8")
    program = find_dot()
    if program is None:
        try:
            import graphviz  # the optional Python package: it runs the same program
        except ImportError:
            raise GraphvizNotFoundError(missing_graphviz_message(fmt)) from None
        try:
            return graphviz.Source(dot_text).pipe(format=fmt)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotFoundError(missing_graphviz_message(fmt)) from None
    done = subprocess.run(
        [program, f"-T{fmt}"],
        input=dot_text.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip()
        raise Caffe2LiteError(f"Graphviz 'dot' failed to write {fmt.upper()}: {detail}")
    return done.stdout
