"""Utilities: Alias, Copy, EnsureDense, Print, StopGradient, ZeroGradient."""

from __future__ import annotations

from . import copy  # noqa: F401
from . import alias  # noqa: F401
from . import stop_gradient  # noqa: F401
from . import zero_gradient  # noqa: F401
from . import print  # noqa: F401
from . import ensure_dense  # noqa: F401
from . import python_op  # noqa: F401
