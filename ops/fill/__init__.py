"""Fills: constant, given-tensor and random initialisers."""

from __future__ import annotations

from . import constant_fill  # noqa: F401
from . import given_tensor_fill  # noqa: F401
from . import uniform_fill  # noqa: F401
from . import uniform_int_fill  # noqa: F401
from . import gaussian_fill  # noqa: F401
