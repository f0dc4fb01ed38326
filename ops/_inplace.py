"""May a kernel write into a stored array? The one answer every in-place op uses.

Caffe2 wrote an in-place output into its input's tensor (ScatterWeightedSum and the
sparse optimizers on their parameter, Allreduce on its blobs). Here the workspace
holds the only reference to a blob's array (feeding and fetching copy), so a kernel
may write into it when nothing else can see that memory: :func:`owned` decides that,
and :func:`writable` gives the array to write (the stored one, or a copy).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

# -- may a kernel write into a stored array? ------------------------------------------
#
# An array may be written in place when the workspace's dict and the executor's call
# are the only things referring to it. The executor's own references (the argument
# tuple, the kernel's parameter) depend on how it calls the kernel, so they are
# measured, once per calling function, by running a ScatterAssign through each of
# the executor's entry points on a private dict (``_Probe``) and counting. A kernel
# called from anywhere else, or an array with one reference more than measured (a
# profiler holding it, another blob holding a view of it, a caller's variable), is
# copied instead.


class _Probe(dict):
    """The blob dict of a measuring run: :func:`owned` records counts into ``seen``."""

    seen: dict


_BASELINE: dict[Any, int] | None = None
_LOCK = threading.Lock()
_GIL = getattr(sys, "_is_gil_enabled", lambda: True)


def _calibrate() -> dict[Any, int] | None:
    """Reference counts that :func:`owned` sees for a sole-owned array, by calling
    code object; None when they cannot be measured now (a profiler is active)."""
    from caffe2lite.proto import caffe2_pb2
    from caffe2lite.runtime import profile
    from caffe2lite.runtime.net import CompiledNet, run_operator_once

    if profile.ACTIVE:
        return None  # profilers would see the measuring runs: measure later
    op = caffe2_pb2.OperatorDef(
        type="ScatterAssign", input=["D", "I", "S"], output=["D"]
    )
    net = caffe2_pb2.NetDef(name="_caffe2lite_inplace_probe", op=[op])
    blobs = _Probe(
        D=np.zeros((1, 1), np.float32),
        I=np.zeros(1, np.int64),
        S=np.zeros((1, 1), np.float32),
    )
    blobs.seen = {}
    compiled = CompiledNet(net, blobs)
    compiled.run(blobs)
    compiled.run(blobs, 1, [lambda run: None])
    run_operator_once(op, blobs)
    return blobs.seen


def _baseline() -> dict[Any, int]:
    global _BASELINE
    if _BASELINE is None:
        with _LOCK:
            if _BASELINE is None:
                try:
                    found = _calibrate()
                except Exception:  # noqa: BLE001  (never in place rather than fail)
                    found = {}
                if found is None:
                    return {}
                _BASELINE = found
    return _BASELINE


def owned(arr: Any, outputs: Any, position: int) -> bool:
    """Whether a kernel may write into ``arr``, its input stored as output
    ``position``: it runs in a workspace (``outputs``, the kernel's
    ``net.OutputBlobs``, has its blob dict), that output's blob holds ``arr`` itself,
    ``arr`` is a writable, aligned, C-contiguous native-order ndarray, and neither it
    nor the array owning its memory is referred to by anything but the workspace and
    the executor's call (no other blob, no view, no profiler, no caller's variable).

    Call it from the kernel itself, with the kernel's own parameter, before the
    kernel binds ``arr`` to any other name (each extra name is one more reference)."""
    blobs = getattr(outputs, "blobs", None)
    probe = type(blobs) is _Probe
    if not (type(blobs) is dict or probe) or type(arr) is not np.ndarray:
        return False
    names = outputs.names
    if position >= len(names) or blobs.get(names[position]) is not arr:
        return False
    flags = arr.flags
    if not (
        flags.c_contiguous
        and flags.writeable
        and flags.aligned
        and arr.dtype.isnative
        and _GIL()
    ):
        return False
    count = sys.getrefcount(arr)
    try:
        caller = sys._getframe(2).f_code  # owned <- the kernel <- its caller
    except ValueError:  # the kernel called from the bottom of the stack
        return False
    if probe:
        blobs.seen[caller] = count
        return False
    if _baseline().get(caller) != count:
        return False
    base = arr.base
    if base is None:
        return bool(flags.owndata)
    # A view (e.g. after a reshape) whose owner only it refers to: the owner's
    # references are arr.base, ``base`` here and getrefcount's argument.
    return (
        type(base) is np.ndarray
        and base.base is None
        and base.flags.owndata
        and sys.getrefcount(base) == 3
    )


def writable(arr: np.ndarray, in_place: bool) -> np.ndarray:
    """``arr`` itself when ``in_place``, else a C-contiguous copy to update."""
    return arr if in_place else np.array(arr, copy=True, order="C")
