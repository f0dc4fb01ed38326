"""A progress bar for long runs, on a terminal only.

``caffe2lite run --iters N`` shows iterations done, the rate and the time left with
`tqdm <https://tqdm.github.io>`_ when it is installed (the ``progress`` extra:
``pip install caffe2lite[progress]`` or ``pip install tqdm``) and the stream is a
terminal. When output goes to a file or a pipe, or tqdm is not installed, the bar is
a :class:`NullBar` that prints nothing, so logs and scripts stay clean.
"""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

MIN_ITERS = 2  # a single run shows no bar


class NullBar:
    """A bar that shows nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, *, stream: TextIO | None = None, desc: str = "",
                 unit: str = "iter") -> Any:
    """A bar of ``total`` iterations (None: not known, so a count and a rate) on
    ``stream`` (stderr by default): tqdm's on a terminal when tqdm is installed, else
    a :class:`NullBar`."""
    stream = sys.stderr if stream is None else stream
    if (total is not None and total < MIN_ITERS) or not _is_terminal(stream):
        return NullBar()
    try:
        from tqdm import tqdm
    except ImportError:
        return NullBar()
    return tqdm(total=total, file=stream, desc=desc or None, unit=unit,
                mininterval=0.2, leave=True, **_size(stream))


def _size(stream: Any) -> dict[str, int]:
    """The terminal's width and height; 80 x 24 where it says 0 (a fresh pseudo
    terminal), on which tqdm would otherwise hide the bar."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return {"ncols": 80, "nrows": 24}
    return {"ncols": size.columns or 80, "nrows": size.lines or 24}


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
