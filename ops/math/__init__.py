"""Element-wise and reducing arithmetic: Add, Sub, Mul, Scale, Sum, WeightedSum, DotProduct."""

from __future__ import annotations

from . import weighted_sum  # noqa: F401
from . import add  # noqa: F401
from . import dot_product  # noqa: F401
from . import mul  # noqa: F401
from . import scale  # noqa: F401
from . import sub  # noqa: F401
from . import sum  # noqa: F401
