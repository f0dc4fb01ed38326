"""Every operator of caffe2lite, one per module, in family folders. This list is
explicit on purpose: importing ``caffe2lite`` imports exactly these families (each
family's ``__init__`` lists its modules)."""

from __future__ import annotations

from . import sparse  # noqa: F401
from . import fill  # noqa: F401
from . import utility  # noqa: F401
from . import math  # noqa: F401
from . import train  # noqa: F401
from . import loss  # noqa: F401
from . import shape  # noqa: F401
from . import matrix  # noqa: F401
from . import nn  # noqa: F401
from . import segment  # noqa: F401
from . import logic  # noqa: F401
from . import control  # noqa: F401
from . import quantized  # noqa: F401
from . import vision  # noqa: F401
from . import int8  # noqa: F401
from . import detection  # noqa: F401
from . import db  # noqa: F401
from . import distributed  # noqa: F401
