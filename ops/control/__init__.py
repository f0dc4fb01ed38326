"""Control flow: If and While with their nets in arguments, Assert."""

from __future__ import annotations
