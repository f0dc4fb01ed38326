"""Training: sparse updates, learning rates, iteration counters."""

from __future__ import annotations

from . import scatter_weighted_sum  # noqa: F401
from . import learning_rate  # noqa: F401
from . import create_mutex  # noqa: F401
from . import iter  # noqa: F401
from . import atomic_iter  # noqa: F401
