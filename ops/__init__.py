"""Every operator of caffe2lite, one per module. This list is explicit on purpose:
importing ``caffe2lite`` imports exactly these, in this order."""

from __future__ import annotations

# Training: SGD updates, learning rates, iteration counters
from . import weighted_sum  # noqa: F401
from . import scatter_weighted_sum  # noqa: F401
from . import learning_rate  # noqa: F401
from . import create_mutex  # noqa: F401
from . import iter  # noqa: F401
from . import atomic_iter  # noqa: F401

# Random fills
from . import uniform_fill  # noqa: F401
from . import uniform_int_fill  # noqa: F401
from . import gaussian_fill  # noqa: F401

# Gradient plumbing: accumulation, gradient stops, printing
from . import sum  # noqa: F401
