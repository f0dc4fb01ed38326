"""Matrix products: FC."""

from __future__ import annotations

from . import fc  # noqa: F401
