"""Activations and normalisations: Relu, Sigmoid, Softmax."""

from __future__ import annotations

from . import elu  # noqa: F401
from . import gelu  # noqa: F401
from . import glu  # noqa: F401
from . import hard_sigmoid  # noqa: F401
from . import leaky_relu  # noqa: F401
from . import mish  # noqa: F401
from . import prelu  # noqa: F401
from . import relu  # noqa: F401
from . import relu_n  # noqa: F401
from . import selu  # noqa: F401
from . import sigmoid  # noqa: F401
from . import softmax  # noqa: F401
from . import swish  # noqa: F401
from . import thresholded_relu  # noqa: F401
