"""Forward OperatorDefs in, backward OperatorDefs out: SSA bookkeeping (``ir``),
gradient makers (``maker``), accumulation (``accumulate``) and the registry that
ties them together (``backward``)."""

from __future__ import annotations

from caffe2lite.gradient.backward import *  # noqa: F401,F403
from caffe2lite.gradient.backward import __all__  # noqa: F401
