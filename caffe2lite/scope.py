"""Name and device scopes (Caffe2's ``caffe2.python.scope``).

>>> with NameScope("tower"):
...     CurrentNameScope()
'tower/'
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

from caffe2lite.errors import ApiValueError, Caffe2LiteError

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
    """Give operators created inside the DeviceOption ``scope`` (when they set none).

    A falsy ``scope`` (``None``, ``0``) with a ``node_name`` gives them a default
    (CPU) DeviceOption carrying only that node name, as Caffe2 did; one of the two
    must be given.
    """
    from caffe2lite.proto import caffe2_pb2

    new_scope = caffe2_pb2.DeviceOption()
    if scope:
        if not isinstance(scope, caffe2_pb2.DeviceOption):
            raise ApiValueError(
                "DeviceScope(scope) takes in a caffe2_pb2.DeviceOption as scope, "
                f"got {scope!r}", expected="a DeviceOption", found=type(scope).__name__)
        new_scope.CopyFrom(scope)
    elif not node_name:
        raise ScopeAssertionError("At least one argument should be non-null in DeviceScope")
    if node_name:
        new_scope.node_name = node_name
    old = CurrentDeviceScope()
    _state.devicescope = new_scope
    try:
        yield
    finally:
        _state.devicescope = old


class ScopeAssertionError(Caffe2LiteError, AssertionError):
    """A DeviceScope precondition failed (an ``assert`` in Caffe2)."""
