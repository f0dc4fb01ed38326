"""Keep freed memory mapped while MPI collectives run (glibc's malloc only).

glibc returns freed memory to the operating system at once when the freed block
sits at the top of the heap (``M_TRIM_THRESHOLD``) or was a block of its own
(``M_MMAP_THRESHOLD``); the next allocation of that size then faults every page in
again. A training step frees and allocates the same gradient-sized arrays every
time, and MPICH allocates its own scratch buffer inside each large allreduce, so
whether a step pays those page faults depended on the order of the frees: a 1 MB
allreduce between 2 ranks on one machine took 135 us or 320 us (130 page faults
inside MPI alone) for the same data, depending on which array was freed first.

:func:`keep_freed_memory` sets the two thresholds where glibc's own adaptive rule
would end after freeing a block of its largest adaptive size (32 MiB to allocate by
``mmap``, twice that kept at the top of the heap): blocks up to 32 MiB are reused
instead of faulted in again, and at most 64 MiB of freed memory stays mapped per
process. A common world of more than one rank calls it once per process. It is left
alone when the environment already tunes malloc (``MALLOC_*_`` variables or
``GLIBC_TUNABLES`` naming ``glibc.malloc``), when ``CAFFE2LITE_MPI_MALLOC=0``, and
on a C library that is not glibc.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # glibc's adaptive rule: trim at twice the mmap threshold
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (glibc's malloc.h)
_M_MMAP_THRESHOLD = -3
_ENV_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
             "MALLOC_MMAP_MAX_")
SWITCH = "CAFFE2LITE_MPI_MALLOC"

_lock = threading.Lock()
_status: str | None = None


def environ() -> dict[str, str]:
    """The same setting as environment variables, for processes started later (glibc
    reads them at start-up): Dask worker processes, whose nanny otherwise starts them
    with ``MALLOC_TRIM_THRESHOLD_=65536``."""
    return {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
            "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD)}


def status() -> str:
    """What :func:`keep_freed_memory` did in this process ("not asked" before it ran)."""
    return _status or "not asked"


def keep_freed_memory() -> str:
    """Set glibc's trim and mmap thresholds once per process (see the module doc);
    returns what was done, also kept for :func:`status`."""
    global _status
    with _lock:
        if _status is None:
            _status = _apply()
        return _status


def _apply() -> str:
    if os.environ.get(SWITCH, "1") == "0":
        return f"left alone ({SWITCH}=0)"
    tuned = [k for k in _ENV_VARS if k in os.environ]
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        tuned.append("GLIBC_TUNABLES")
    if tuned:
        return f"left alone (set by the environment: {', '.join(tuned)})"
    if not sys.platform.startswith("linux"):
        return f"left alone (not glibc: {sys.platform})"
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018  (present in glibc only)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "left alone (not glibc)"
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if not (mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return "left alone (mallopt refused)"
    return (f"set: blocks up to {MMAP_THRESHOLD >> 20} MiB reused, at most "
            f"{TRIM_THRESHOLD >> 20} MiB of freed memory kept mapped")
