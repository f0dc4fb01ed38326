"""Caffe2's ``workspace`` module: named workspaces of blobs and nets (the face of
:mod:`caffe2lite.runtime.workspace` and :mod:`caffe2lite.runtime.api`)."""

from typing import Any as _Any

from caffe2lite.runtime import api as _api
from caffe2lite.runtime.api import *
from caffe2lite.runtime.workspace import *
from caffe2lite.runtime.workspace import __all__ as _workspace_all
from caffe2lite.runtime.profile import OpRun, Profiler  # RunNet(on_op=) / profiling

__all__ = list(_workspace_all) + list(_api.__all__) + ["OpRun", "Profiler"]


def __getattr__(name: str) -> _Any:
    # Live module state Caffe2 scripts and tests read (``_immediate_root_folder``).
    if name.startswith("_immediate"):
        return getattr(_api, name)
    raise AttributeError(f"module 'caffe2lite.workspace' has no attribute {name!r}")
