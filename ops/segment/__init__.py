"""Segment reductions over lengths (Lengths*, SparseLengths*) and lengths conversions."""

from __future__ import annotations

from . import lengths_sum  # noqa: F401
from . import lengths_mean  # noqa: F401
from . import lengths_max  # noqa: F401
from . import lengths_weighted_sum  # noqa: F401
from . import sparse_lengths_sum  # noqa: F401
from . import sparse_lengths_mean  # noqa: F401
from . import sparse_lengths_weighted_sum  # noqa: F401
from . import lengths_to_ranges  # noqa: F401
from . import lengths_to_segment_ids  # noqa: F401
from . import lengths_range_fill  # noqa: F401
from . import lengths_tile  # noqa: F401
from . import sorted_segment_sum  # noqa: F401
from . import sorted_segment_mean  # noqa: F401
from . import unsorted_segment_sum  # noqa: F401
from . import unsorted_segment_mean  # noqa: F401
from . import sparse_sorted_segment_sum  # noqa: F401
from . import sparse_sorted_segment_mean  # noqa: F401
from . import sparse_unsorted_segment_sum  # noqa: F401
from . import sparse_unsorted_segment_mean  # noqa: F401
from . import sparse_lengths_positional_weighted_sum  # noqa: F401
from . import sorted_segment_range  # noqa: F401
