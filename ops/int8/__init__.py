"""Int8 (quantised uint8) operators: Int8Quantize, Int8Dequantize, Int8FC, Int8Conv and the rest, with Caffe2's requantisation."""

from __future__ import annotations
from . import quantize  # noqa: F401
from . import dequantize  # noqa: F401
from . import given_tensor_fill  # noqa: F401
from . import fc  # noqa: F401
from . import conv  # noqa: F401
from . import add  # noqa: F401
from . import pool  # noqa: F401
from . import relu  # noqa: F401
from . import softmax  # noqa: F401
from . import resize_nearest  # noqa: F401
from . import reshape  # noqa: F401
from . import flatten  # noqa: F401
from . import concat  # noqa: F401
from . import sigmoid  # noqa: F401
from . import transpose  # noqa: F401
from . import leaky_relu  # noqa: F401
from . import channel_shuffle  # noqa: F401
from . import slice  # noqa: F401
from . import conv_transpose  # noqa: F401
from . import roi_align  # noqa: F401
