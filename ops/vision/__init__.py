"""Images: convolution, pooling, normalisation (SpatialBN, LRN, GroupNorm, InstanceNorm, AffineChannel), Dropout and resizing."""

from __future__ import annotations
