"""Activations and normalisations: Relu, Sigmoid, Softmax."""

from __future__ import annotations

from . import relu  # noqa: F401
from . import sigmoid  # noqa: F401
from . import softmax  # noqa: F401
