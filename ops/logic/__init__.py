"""Comparisons and logic: EQ, NE, LT, LE, GT, GE, And, Or, Xor, Not, the bitwise ops, Where, IsEmpty."""

from __future__ import annotations

from . import comparison  # noqa: F401
from . import logical  # noqa: F401
from . import bitwise  # noqa: F401
from . import not_op  # noqa: F401
from . import where  # noqa: F401
from . import is_empty  # noqa: F401
from . import is_member_of  # noqa: F401
