"""Every operator of caffe2lite, one per module. This list is explicit on purpose:
importing ``caffe2lite`` imports exactly these, in this order."""

from __future__ import annotations

# Sparse feature dropout
from . import sparse_dropout_with_replacement  # noqa: F401
from . import sparse_itemwise_dropout_with_replacement  # noqa: F401

# Constant fills and copies
from . import constant_fill  # noqa: F401
from . import given_tensor_fill  # noqa: F401
from . import copy  # noqa: F401

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

# Dense layers, element-wise math, shapes and losses
from . import add  # noqa: F401
from . import alias  # noqa: F401
from . import averaged_loss  # noqa: F401
from . import cast  # noqa: F401
from . import concat  # noqa: F401
from . import dot_product  # noqa: F401
from . import fc  # noqa: F401
from . import mul  # noqa: F401
from . import relu  # noqa: F401
from . import scale  # noqa: F401
from . import sigmoid  # noqa: F401
from . import sigmoid_cross_entropy_with_logits  # noqa: F401
from . import softmax  # noqa: F401
from . import split  # noqa: F401
from . import squared_l2_distance  # noqa: F401
from . import sub  # noqa: F401

# Gradient plumbing: accumulation, gradient stops, printing
from . import sum  # noqa: F401
from . import stop_gradient  # noqa: F401
from . import zero_gradient  # noqa: F401
from . import print  # noqa: F401

# Segment reductions and their gradient operators
from . import lengths_sum  # noqa: F401
from . import lengths_mean  # noqa: F401
from . import lengths_max  # noqa: F401
from . import lengths_weighted_sum  # noqa: F401
from . import sparse_lengths_sum  # noqa: F401
from . import sparse_lengths_mean  # noqa: F401
from . import sparse_lengths_weighted_sum  # noqa: F401

# Sparse utilities: gathers, lengths/ranges conversions, dense conversion
from . import gather  # noqa: F401
from . import batch_gather  # noqa: F401
from . import gather_ranges  # noqa: F401
from . import lengths_to_ranges  # noqa: F401
from . import lengths_to_segment_ids  # noqa: F401
from . import lengths_range_fill  # noqa: F401
from . import lengths_tile  # noqa: F401
from . import sparse_to_dense  # noqa: F401
from . import ensure_dense  # noqa: F401
