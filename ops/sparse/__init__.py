"""Sparse features: the dropout-with-replacement ops, gathers, SparseToDense."""

from __future__ import annotations

from . import sparse_dropout_with_replacement  # noqa: F401
from . import sparse_itemwise_dropout_with_replacement  # noqa: F401
from . import gather  # noqa: F401
from . import batch_gather  # noqa: F401
from . import gather_ranges  # noqa: F401
from . import sparse_to_dense  # noqa: F401
from . import sparse_to_dense_mask  # noqa: F401
from . import batch_sparse_to_dense  # noqa: F401
from . import sparse_fun_hash  # noqa: F401
from . import fun_hash  # noqa: F401
from . import sparse_label_split  # noqa: F401
from . import fill_examples_with_indicator  # noqa: F401
from . import lengths_gather  # noqa: F401
from . import scatter_assign  # noqa: F401
from . import gather_ranges_to_dense  # noqa: F401
