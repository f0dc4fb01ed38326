"""Parameter sharing between name scopes (Caffe2's ``modeling.parameter_sharing``).

Inside ``with ParameterSharing({"scope_b": "scope_a"}):`` a parameter that
ModelHelper.create_param would name ``scope_b/w`` is named ``scope_a/w`` instead, so
both towers use one blob. Overrides apply again to their result, and a deeper scope
keeps its unshared remainder: with ``{"b": "a"}``, ``b/unshared/w`` becomes
``a/unshared/w``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from caffe2lite import scope

SEP = scope._NAMESCOPE_SEPARATOR
logger = logging.getLogger(__name__)


class ParameterSharingContext:
    """The stack of active scope overrides (``{"scope_b/": "scope_a/"}`` each)."""

    def __init__(self) -> None:
        self._scope_overrides: dict[str, str] = {}
        self._contexts: list[dict[str, str]] = []

    def _resolve_scope_overrides(self, candidate_scope: str) -> str:
        """The scope ``candidate_scope`` stands for: the longest overridden prefix is
        replaced (recursively), the rest kept."""
        parts = candidate_scope.split(SEP)
        best, best_idx, prefix = candidate_scope, 0, ""
        for idx, part in enumerate(parts):
            prefix += part + SEP
            if prefix in self._scope_overrides:
                best, best_idx = self._scope_overrides[prefix], idx
        if best == candidate_scope:
            return candidate_scope
        return self._resolve_scope_overrides(best) + SEP.join(parts[best_idx + 1:])

    def get_parameter_name(self, name: str) -> str:
        """``name`` in the current name scope, overrides applied."""
        candidate = scope.CurrentNameScope()
        best = self._resolve_scope_overrides(candidate)
        if best != candidate:
            logger.info("Overwriting scope %s with scope %s", candidate, best)
        return best + name

    def add_scope_overrides(self, shared_scopes: dict[str, str]) -> None:
        self._contexts.append(shared_scopes)
        self._scope_overrides.update(shared_scopes)

    def pop(self) -> None:
        assert len(self._contexts) > 0
        self._contexts.pop()
        self._scope_overrides = {}
        for overrides in self._contexts:
            self._scope_overrides.update(overrides)


parameter_sharing_context = ParameterSharingContext()


def _normalize_namescope(namescope: str) -> str:
    return namescope + SEP if namescope and not namescope.endswith(SEP) else namescope


@contextlib.contextmanager
def ParameterSharing(shared_scopes: dict[str, str]) -> Iterator[None]:
    """Share the parameters of scope ``k`` with scope ``v`` for each ``k: v`` (both
    relative to the current name scope) inside the block."""
    assert isinstance(shared_scopes, dict)
    current = scope.CurrentNameScope()
    overrides = {}
    for k, v in shared_scopes.items():
        assert not v.startswith(k), \
            f"Illegal override for parameter sharing. {k} is prefix of {v}"
        overrides[_normalize_namescope(current + k)] = _normalize_namescope(current + v)
    parameter_sharing_context.add_scope_overrides(overrides)
    try:
        yield
    finally:
        parameter_sharing_context.pop()
