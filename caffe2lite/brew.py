"""Caffe2's ``brew`` module: ``from caffe2lite import brew`` stands in for
``from caffe2.python import brew``.

As in Caffe2 the module object is replaced by the helper wrapper, so that
``brew.fc(model, ...)`` applies the model's and the enclosing ``brew.arg_scope``'s
arguments. The helpers live in :mod:`caffe2lite.modeling.helpers`.
"""

from __future__ import annotations

import sys

from caffe2lite.modeling.brew import HelperWrapper
from caffe2lite.modeling.brew import brew as _brew

_brew.wrapped = sys.modules[__name__]
sys.modules[__name__] = _brew  # type: ignore[assignment]

__all__ = ["HelperWrapper"]
