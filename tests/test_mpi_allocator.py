"""A common world of several ranks keeps freed memory mapped (glibc's trim and mmap
thresholds), so arrays freed and allocated again every step do not fault their pages
in again; the environment's own malloc settings and CAFFE2LITE_MPI_MALLOC=0 win."""

from __future__ import annotations

import ctypes
import sys

import pytest

from caffe2lite.distributed import allocator, mpi_launch

WHY = mpi_launch.unavailable()
# the ranks start without malloc settings of their own (a Dask LocalCluster started
# earlier in this process leaves its workers' MALLOC_* variables in os.environ)
CLEAN = {key: None for key in ("GLIBC_TUNABLES", *allocator._ENV_VARS)}


def _glibc() -> bool:
    try:
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    return sys.platform.startswith("linux")


# A 1 MiB array freed, then allocated and written again, 20 times over: without the
# setting glibc gave the memory back to the system and the writes faulted its pages
# in again.
SCRIPT = '''
import resource
from caffe2lite.distributed import allocator
status = allocator.status()
a = np.ones(1 << 18, np.float32)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    del a
    a = np.ones(1 << 18, np.float32)
report(status=status, faults=resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
'''


@pytest.mark.skipif(WHY is not None, reason=f"needs MPI: {WHY}")
@pytest.mark.skipif(not _glibc(), reason="glibc's malloc only")
def test_a_world_of_two_ranks_keeps_freed_memory_mapped():
    res = mpi_launch.run(2, mpi_launch.PRELUDE + SCRIPT, timeout=60,
                         env={**CLEAN, "CAFFE2LITE_MPI_MALLOC": "1"})
    assert res.returncode == 0, res.stderr
    assert len(res.results) == 2
    for r in res.results:
        assert r["status"] == ("set: blocks up to 32 MiB reused, at most 64 MiB of freed "
                               "memory kept mapped")
        assert r["faults"] < 20, r  # about 200 with CAFFE2LITE_MPI_MALLOC=0 on Linux x86-64


@pytest.mark.skipif(WHY is not None, reason=f"needs MPI: {WHY}")
def test_the_switch_and_the_environment_leave_malloc_alone():
    res = mpi_launch.run(2, mpi_launch.PRELUDE + SCRIPT, timeout=60,
                         env={**CLEAN, "CAFFE2LITE_MPI_MALLOC": "0"})
    assert res.returncode == 0, res.stderr
    assert [r["status"] for r in res.results] == ["left alone (CAFFE2LITE_MPI_MALLOC=0)"] * 2
    res = mpi_launch.run(1, mpi_launch.PRELUDE + SCRIPT, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.results[0]["status"] == "not asked"  # a world of one rank


@pytest.mark.parametrize("env, expected", [
    ({"CAFFE2LITE_MPI_MALLOC": "0"}, "left alone (CAFFE2LITE_MPI_MALLOC=0)"),
    ({"MALLOC_TOP_PAD_": "0"}, "left alone (set by the environment: MALLOC_TOP_PAD_)"),
    ({"MALLOC_MMAP_THRESHOLD_": "1", "MALLOC_TRIM_THRESHOLD_": "1"},
     "left alone (set by the environment: MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)"),
    ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"},
     "left alone (set by the environment: GLIBC_TUNABLES)"),
])
def test_settings_of_the_environment_are_not_overridden(monkeypatch, env, expected):
    for key in ("CAFFE2LITE_MPI_MALLOC", "GLIBC_TUNABLES", *allocator._ENV_VARS):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert allocator._apply() == expected  # decided before any mallopt call
