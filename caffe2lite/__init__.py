"""caffe2lite: Caffe2's CPU runtime in pure Python (numpy + protobuf).

``from caffe2lite import core, workspace`` stands in for
``from caffe2.python import core, workspace``; importing the package registers every
operator.
"""

from __future__ import annotations

from caffe2lite import errors, registry  # noqa: F401  (registry before the ops)
from caffe2lite.errors import Caffe2LiteError  # noqa: F401
from caffe2lite.registry import (  # noqa: F401
    gradient_not_implemented_yet,
    no_gradient,
    register_cpu_operator,
    register_gradient,
    should_not_do_gradient,
)
from caffe2lite.schema import REQUIRED, Arg  # noqa: F401
from caffe2lite import ops  # noqa: F401,E402  (registers every operator)
from caffe2lite import core, workspace  # noqa: F401,E402

__version__ = "0.1.0"
