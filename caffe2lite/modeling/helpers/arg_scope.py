"""``brew.arg_scope``: default keyword arguments for helpers inside a block."""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

_threadlocal_scope = threading.local()


@contextlib.contextmanager
def arg_scope(single_helper_or_list: Any, **kwargs: Any) -> Iterator[None]:
    """Inside the block, calls of these helpers get ``kwargs`` as defaults (nested
    scopes add to the outer ones; arguments given in the call still win)."""
    if not isinstance(single_helper_or_list, list):
        assert callable(single_helper_or_list), \
            "arg_scope is only supporting single or a list of helper functions."
        single_helper_or_list = [single_helper_or_list]
    old_scope = copy.deepcopy(get_current_scope())
    for helper in single_helper_or_list:
        assert callable(helper), \
            "arg_scope is only supporting a list of callable helper functions."
        key = helper.__name__
        if key not in old_scope:
            _threadlocal_scope.current_scope[key] = {}
        _threadlocal_scope.current_scope[key].update(kwargs)
    try:
        yield
    finally:
        _threadlocal_scope.current_scope = old_scope


def get_current_scope() -> dict:
    """``{helper name: {argument: value}}`` of the enclosing arg_scopes."""
    if not hasattr(_threadlocal_scope, "current_scope"):
        _threadlocal_scope.current_scope = {}
    return _threadlocal_scope.current_scope
