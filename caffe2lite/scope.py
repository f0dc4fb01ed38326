"""Name and device scopes (Caffe2's ``caffe2.python.scope``).

>>> with NameScope("tower"):
...     CurrentNameScope()
'tower/'
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

_NAMESCOPE_SEPARATOR = "/"
_state = threading.local()


def CurrentNameScope() -> str:
    """The current name-scope prefix (``""`` or ending with ``/``)."""
    return getattr(_state, "namescope", "")


def CurrentDeviceScope() -> Any:
    """The current DeviceOption, or ``None`` outside any ``DeviceScope``."""
    return getattr(_state, "devicescope", None)


@contextlib.contextmanager
def NameScope(prefix: str | None, reset: bool = False) -> Iterator[None]:
    """Prefix blob names created inside with ``prefix/`` (nested scopes stack)."""
    if prefix is not None and not isinstance(prefix, str):
        prefix = str(prefix)
    old = CurrentNameScope()
    prefix = prefix + _NAMESCOPE_SEPARATOR if prefix else ""
    _state.namescope = prefix if reset else old + prefix
    try:
        yield
    finally:
        _state.namescope = old


@contextlib.contextmanager
def DeviceScope(scope: Any, node_name: str | None = None) -> Iterator[None]:
    """Give operators created inside the DeviceOption ``scope`` (when they set none)."""
    from caffe2lite.proto import caffe2_pb2

    new_scope = caffe2_pb2.DeviceOption()
    if scope is not None:
        new_scope.CopyFrom(scope)
    if node_name:
        new_scope.node_name = node_name
    old = CurrentDeviceScope()
    _state.devicescope = new_scope
    try:
        yield
    finally:
        _state.devicescope = old
