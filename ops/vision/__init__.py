"""Images: convolution, pooling, normalisation (SpatialBN, LRN, GroupNorm, InstanceNorm, AffineChannel), Dropout and resizing."""

from __future__ import annotations
from . import conv  # noqa: F401
from . import conv_transpose  # noqa: F401
from . import pool  # noqa: F401
from . import spatial_bn  # noqa: F401
from . import channel_stats  # noqa: F401
from . import pad_image  # noqa: F401
from . import lrn  # noqa: F401
from . import dropout  # noqa: F401
from . import resize  # noqa: F401
from . import group_norm  # noqa: F401
from . import instance_norm  # noqa: F401
from . import affine_channel  # noqa: F401
from . import channel_shuffle  # noqa: F401
from . import conv_relu  # noqa: F401
from . import im2col  # noqa: F401
from . import lp_pool  # noqa: F401
