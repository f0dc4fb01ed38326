"""Finding an optional compiled module: the rule the three of them share.

``pip install`` builds ``_caffe2lite_speedups``, ``_caffe2lite_sparse_update`` and
``_caffe2lite_embedding`` when a C compiler is at hand (setup.py). Each is used only
when ``CAFFE2LITE_SPEEDUPS`` is not ``0``, it imports, and it speaks the interface
number its loader expects; otherwise the ops run their numpy kernels, and the
loader's ``status`` says why (``caffe2lite --version`` prints it).
"""

from __future__ import annotations

import importlib
import os
from typing import Any


def find(name: str, interface: int) -> tuple[Any, str]:
    """``(module, "")`` when module ``name`` is usable, else ``(None, status)`` with
    the one-line reason the numpy kernels run."""
    if os.environ.get("CAFFE2LITE_SPEEDUPS", "1") == "0":
        return None, "numpy kernels (CAFFE2LITE_SPEEDUPS=0)"
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None, f"numpy kernels (the compiled module {name} is not built)"
    found = getattr(module, "INTERFACE", None)
    if found != interface:
        return None, (f"numpy kernels ({name} speaks interface {found}, this "
                      f"caffe2lite {interface}: reinstall caffe2lite)")
    return module, ""
