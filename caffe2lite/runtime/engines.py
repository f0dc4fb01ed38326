"""Engine preferences (Caffe2's ``SetEnginePref``): which engine an operator that
names none (or names several, comma-separated) is created with.

Preferences are per device type: ``per_op = {device_type: {op_type: [engines]}}``
and ``global_pref = {device_type: [engines]}``. An op's own engines come first, then
its type's preference, then the global one; the first registered engine wins, the
default engine otherwise.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from caffe2lite.errors import ApiValueError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry

_per_op: dict[int, dict[str, list[str]]] = {}
_global: dict[int, list[str]] = {}


def _engines(value: Any, what: str) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ApiValueError(f"{what}: expected a list of engine names", found=repr(value))
    return [str(e) for e in value]


def set_engine_pref(per_op: Mapping[int, Mapping[str, Sequence[str]]],
                    global_pref: Mapping[int, Sequence[str]]) -> None:
    """Replace both preference tables (``SetEnginePref({}, {})`` clears them)."""
    new_per_op = {int(d): {str(t): _engines(e, f"engines of {t}") for t, e in prefs.items()}
                  for d, prefs in per_op.items()}
    new_global = {int(d): _engines(e, "global engines") for d, e in global_pref.items()}
    _per_op.clear()
    _per_op.update(new_per_op)
    _global.clear()
    _global.update(new_global)


def engine_for(op: caffe2_pb2.OperatorDef) -> str:
    """The engine ``op`` is created with."""
    own = [e for e in op.engine.split(",") if e] if op.engine else []
    if not own and not _per_op and not _global:
        return ""
    device = op.device_option.device_type if op.HasField("device_option") else caffe2_pb2.CPU
    candidates = own + _per_op.get(device, {}).get(op.type, []) + _global.get(device, [])
    for engine in candidates:
        if engine in ("", "DEFAULT") or (op.type, engine) in registry.OPERATORS:
            return "" if engine == "DEFAULT" else engine
    return own[0] if len(own) == 1 else ""
