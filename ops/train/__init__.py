"""Training: sparse updates, learning rates, iteration counters."""

from __future__ import annotations

from . import scatter_weighted_sum  # noqa: F401
from . import learning_rate  # noqa: F401
from . import create_mutex  # noqa: F401
from . import iter  # noqa: F401
from . import atomic_iter  # noqa: F401
from . import adagrad  # noqa: F401
from . import sparse_adagrad  # noqa: F401
from . import row_wise_sparse_adagrad  # noqa: F401
from . import adam  # noqa: F401
from . import sparse_adam  # noqa: F401
from . import row_wise_sparse_adam  # noqa: F401
from . import momentum_sgd  # noqa: F401
from . import momentum_sgd_update  # noqa: F401
from . import sparse_momentum_sgd_update  # noqa: F401
from . import ftrl  # noqa: F401
from . import sparse_ftrl  # noqa: F401
