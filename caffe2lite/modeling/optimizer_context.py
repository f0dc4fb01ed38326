"""Which optimizer a parameter created inside a context gets (Caffe2's
``optimizer_context``): ``with UseOptimizer(opt): brew.fc(...)``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DEFAULT_OPTIM = "DEFAULT"

_state = threading.local()


class OptimizerContext:
    """A stack of ``{tag: optimizer}`` dicts; the innermost binding of a tag wins."""

    def __init__(self) -> None:
        self._stack: list[dict[str, Any]] = []

    @staticmethod
    def current() -> OptimizerContext:
        if not hasattr(_state, "context"):
            _state.context = OptimizerContext()
        return _state.context

    def has_optimizer(self, name: str) -> bool:
        return any(name in frame for frame in self._stack)

    def get_optimizer(self, name: str) -> Any:
        for frame in reversed(self._stack):
            if name in frame:
                return frame[name]
        raise AssertionError(f"{name} optimizer is not provided!")


@contextmanager
def UseOptimizer(optim_or_dict: Any) -> Iterator[None]:
    """Give parameters created inside the block this optimizer (or a ``{tag:
    optimizer}`` dict: parameters with that tag get it, ``DEFAULT`` the rest)."""
    frame = optim_or_dict if isinstance(optim_or_dict, dict) \
        else {DEFAULT_OPTIM: optim_or_dict}
    context = OptimizerContext.current()
    context._stack.append(dict(frame))
    try:
        yield
    finally:
        context._stack.pop()
