"""In-place sparse parameter updates: when a kernel may write into a stored array,
and the optional compiled loops that do the writing.

Caffe2 defined ScatterWeightedSum, ScatterAssign and the sparse optimizers as in place
on their parameter blobs (EnforceInplace), so that an update costs time in proportion
to the indices, never to the table. Here the workspace holds the only reference to a
blob's array (feeding and fetching copy), so a kernel may write into it when nothing
else can see that memory. :func:`owned` decides that; :func:`writable` gives the
array to write (the stored one, or a copy when writing in place is not safe), and the
results are the same either way.

``pip install`` compiles ``ops/_caffe2lite_sparse_update.c`` into the module
``_caffe2lite_sparse_update`` when a C compiler is at hand. Caffe2 applies the
indices one after another (a repeated row is updated once per occurrence, each update
seeing the previous one); the compiled loops do that in one pass with no temporary
memory, where numpy needs ``ufunc.at`` on flat element indices (twice the size of
the update values) or one call per repetition level. Without the module, or with
``CAFFE2LITE_SPEEDUPS=0``, the numpy kernels run, with the same results.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import numpy as np

#: The interface this file speaks (the module's ``INTERFACE``).
INTERFACE = 2

native: Any = None  # the module, when it is usable
status = ""  # one line: which loops run, and why


def _load() -> None:
    """Set ``native`` and ``status`` from the environment and the module, if any."""
    global native, status
    native = None
    if os.environ.get("CAFFE2LITE_SPEEDUPS", "1") == "0":
        status = "numpy kernels (CAFFE2LITE_SPEEDUPS=0)"
        return
    try:
        import _caffe2lite_sparse_update as module
    except ImportError:
        status = (
            "numpy kernels (the compiled module _caffe2lite_sparse_update is not built)"
        )
        return
    if getattr(module, "INTERFACE", None) != INTERFACE:
        status = (
            f"numpy kernels (_caffe2lite_sparse_update speaks interface "
            f"{getattr(module, 'INTERFACE', None)}, this caffe2lite {INTERFACE}: "
            f"reinstall caffe2lite)"
        )
        return
    native = module
    status = "compiled loops (_caffe2lite_sparse_update)"


_load()


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


# -- the updates ------------------------------------------------------------------------


#: The most (X, Weight) pairs the compiled ScatterWeightedSum takes (numpy beyond).
MAX_PAIRS = 64


def has_repeats(idx: np.ndarray) -> bool:
    """Whether some index occurs twice (a sort of the indices: O(k log k))."""
    if idx.size < 2:
        return False
    ordered = np.sort(idx)
    return bool((ordered[1:] == ordered[:-1]).any())


def _flat(idx: np.ndarray, block: int) -> np.ndarray:
    """The element indices of rows ``idx`` of a (n, block) table, row after row."""
    return (idx.astype(np.int64)[:, None] * block + np.arange(block)).reshape(-1)


def scatter_weighted_sum(
    rows: np.ndarray, idx: np.ndarray, scale: Any, updates: list[tuple[np.ndarray, Any]]
) -> None:
    """Caffe2's ScatterWeightedSum loops on ``rows`` ((n, block), C-contiguous,
    written in place), with every check done: each named row is multiplied by
    ``scale`` once per occurrence (not at all when scale == 1), then for each
    ``(x, weight)`` of ``updates`` in order (x of shape (k, block)), ``weight *
    x[i]`` is added to row ``idx[i]``, i in order."""
    n, block = rows.shape
    k = idx.size
    if k == 0 or block == 0:
        return
    if native is not None and rows.dtype.isnative and len(updates) <= MAX_PAIRS:
        native.scatter_weighted_sum(
            rows,
            n,
            block,
            np.ascontiguousarray(idx),
            float(scale),
            tuple(np.ascontiguousarray(x) for x, _ in updates),
            tuple(float(w) for _, w in updates),
        )
        return
    flat = rows.reshape(-1)
    if has_repeats(idx):
        elements = _flat(idx, block)
        if scale != 1:
            np.multiply.at(flat, elements, scale)  # sequential: once per occurrence
        for x, w in updates:
            np.add.at(flat, elements, (x if w == 1 else w * x).reshape(-1))
        return
    if scale != 1:
        rows[idx] *= scale
    for x, w in updates:
        rows[idx] += x if w == 1 else w * x
