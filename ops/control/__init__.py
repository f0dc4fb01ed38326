"""Control flow: If and While with their nets in arguments, Assert."""

from __future__ import annotations

from . import if_op  # noqa: F401
from . import while_op  # noqa: F401
from . import assert_op  # noqa: F401
from . import conditional_set_atomic_bool  # noqa: F401
