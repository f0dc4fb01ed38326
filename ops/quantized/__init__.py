"""Rowwise-quantised embeddings: the fused 8-, 4- and 2-bit rowwise formats and their SparseLengths* lookups."""

from __future__ import annotations

from . import float_to_fused_8bit_rowwise_quantized  # noqa: F401
from . import fused_8bit_rowwise_quantized_to_float  # noqa: F401
from . import float_to_fused_nbit_rowwise_quantized  # noqa: F401
from . import fused_nbit_rowwise_quantized_to_float  # noqa: F401
from . import sparse_lengths_fused_8bit_rowwise  # noqa: F401
from . import sparse_lengths_fused_nbit_rowwise  # noqa: F401
from . import sparse_lengths_nbit_rowwise_sparse  # noqa: F401
from . import sparse_lengths_8bits_rowwise  # noqa: F401
from . import float_to_rowwise_quantized_8bits  # noqa: F401
from . import rowwise_8bit_quantized_to_float  # noqa: F401
from . import half_fused_8bit_rowwise  # noqa: F401
from . import half_fused_nbit_rowwise  # noqa: F401
from . import fake_fused_nbit_rowwise  # noqa: F401
from . import greedy_nbit_rowwise  # noqa: F401
from . import gather_fused_8bit_rowwise  # noqa: F401
