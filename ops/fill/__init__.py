"""Fills: constant, given-tensor and random initialisers."""

from __future__ import annotations

from . import constant_fill  # noqa: F401
from . import given_tensor_fill  # noqa: F401
from . import uniform_fill  # noqa: F401
from . import uniform_int_fill  # noqa: F401
from . import gaussian_fill  # noqa: F401
from . import xavier_fill  # noqa: F401
from . import msra_fill  # noqa: F401
from . import range_fill  # noqa: F401
from . import diagonal_fill  # noqa: F401
from . import given_tensor_byte_string_to_uint8_fill  # noqa: F401
from . import given_tensor_fp16_fill  # noqa: F401
from . import float16_uniform_fill  # noqa: F401
