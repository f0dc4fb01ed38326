"""Shapes, layouts and types: Concat, Split, Cast."""

from __future__ import annotations

from . import cast  # noqa: F401
from . import concat  # noqa: F401
from . import split  # noqa: F401
