"""Shapes, layouts and types: Concat, Split, Cast."""

from __future__ import annotations

from . import arg_ops  # noqa: F401
from . import cast  # noqa: F401
from . import concat  # noqa: F401
from . import expand  # noqa: F401
from . import expand_dims  # noqa: F401
from . import flatten  # noqa: F401
from . import flatten_to_vec  # noqa: F401
from . import float_to_half  # noqa: F401
from . import half_to_float  # noqa: F401
from . import lengths_to_shape  # noqa: F401
from . import merge_dim  # noqa: F401
from . import nchw2nhwc  # noqa: F401
from . import nhwc2nchw  # noqa: F401
from . import numpy_tile  # noqa: F401
from . import prepend_dim  # noqa: F401
from . import range  # noqa: F401
from . import reduce_front_back  # noqa: F401
from . import reduce_front_back_max  # noqa: F401
from . import reduce_ops  # noqa: F401
from . import reshape  # noqa: F401
from . import resize_like  # noqa: F401
from . import scale_blobs  # noqa: F401
from . import shape  # noqa: F401
from . import size  # noqa: F401
from . import slice  # noqa: F401
from . import split  # noqa: F401
from . import split_by_lengths  # noqa: F401
from . import squeeze  # noqa: F401
from . import tile  # noqa: F401
from . import top_k  # noqa: F401
from . import transpose  # noqa: F401
