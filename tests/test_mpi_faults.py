"""Faults of the MPI collectives end every rank within a set time, never a hang: a rank
that does not come to a collective, a rank that dies, blobs that differ across ranks."""

from __future__ import annotations

import time

import pytest

from caffe2lite.distributed import mpi_launch

WHY = mpi_launch.unavailable()
pytestmark = pytest.mark.skipif(WHY is not None, reason=f"needs MPI: {WHY}")


def _run(n, body, timeout=30):
    start = time.monotonic()
    res = mpi_launch.run(n, mpi_launch.PRELUDE + body, timeout=timeout)
    return res, time.monotonic() - start


def test_a_rank_that_never_comes_times_out_the_others_with_a_clear_error():
    res, took = _run(2, '''
import time
run("CreateCommonWorld", [], ["fast"], name="fast", size=SIZE, rank=RANK, timeout_ms=500)
workspace.FeedBlob("x", np.ones(3, np.float32))
if RANK == 1:
    time.sleep(20)
else:
    report(error=error_of("Allreduce", ["fast", "x"], ["x"]))
''')
    assert took < 15, f"took {took:.1f} s"
    assert res.returncode != 0
    errors = [r["error"] for r in res.results]
    assert errors and "Allreduce did not complete within 500 ms on rank 0 of 2" in errors[0]


def test_a_rank_that_dies_ends_the_job():
    res, took = _run(3, '''
import os
run("CreateCommonWorld", [], ["fast"], name="fast", size=SIZE, rank=RANK, timeout_ms=1000)
workspace.FeedBlob("x", np.ones(3, np.float32))
if RANK == 2:
    os._exit(3)
run("Allreduce", ["fast", "x"], ["x"])
''')
    assert took < 15, f"took {took:.1f} s"
    assert res.returncode != 0


def test_mismatched_shapes_name_the_blob_and_the_ranks_on_every_rank():
    res, _ = _run(2, '''
workspace.FeedBlob("fc_w_grad", np.zeros((4, 2 + RANK), np.float32))
report(error=error_of("Allreduce", ["cw", "fc_w_grad"], ["fc_w_grad"]))
''')
    assert res.returncode == 0, res.stderr
    assert len(res.results) == 2
    for r in res.results:
        assert ("Allreduce: blob 'fc_w_grad' differs between ranks (rank 0: float32 of "
                "shape (4, 2), rank 1: float32 of shape (4, 3))") in r["error"]


def test_ranks_may_name_their_blobs_differently():
    res, _ = _run(2, '''
name = "x_on_%d" % RANK
workspace.FeedBlob(name, np.full(2, RANK + 1, np.float32))
run("Allreduce", ["cw", name], [name])
report(x=workspace.FetchBlob(name))
''')
    assert res.returncode == 0, res.stderr
    assert [r["x"] for r in res.results] == [[3.0, 3.0]] * 2


def test_creating_a_world_without_every_rank_times_out():
    res, took = _run(2, '''
import time
if RANK == 1:
    time.sleep(20)
else:
    report(error=error_of("CreateCommonWorld", [], ["late"], name="late", size=SIZE,
                          rank=RANK, timeout_ms=400))
''')
    assert took < 15, f"took {took:.1f} s"
    errors = [r["error"] for r in res.results]
    assert errors and "CreateCommonWorld did not complete within 400 ms on rank 0 of 2" in errors[0]


def test_after_a_timeout_every_later_collective_fails_at_once_and_the_job_ends():
    res, took = _run(2, '''
import time
run("CreateCommonWorld", [], ["fast"], name="fast", size=SIZE, rank=RANK, timeout_ms=300)
workspace.FeedBlob("big", np.ones(1 << 19, np.float32))  # 2 MB: the waiting-thread path
if RANK == 1:
    time.sleep(20)
else:
    first = error_of("Allreduce", ["fast", "big"], ["big"])
    start = time.monotonic()
    later = error_of("Barrier", ["fast"], [])
    report(first=first, later=later, later_took=time.monotonic() - start)
''')
    assert took < 15, f"took {took:.1f} s"
    assert res.returncode != 0
    (r,) = res.results
    assert "Allreduce did not complete within 300 ms on rank 0 of 2" in r["first"]
    assert "Barrier: an earlier collective (Allreduce) did not complete on rank 0 of 2" in r["later"]
    assert r["later_took"] < 0.1


def test_small_medium_and_large_allreduces_give_the_exact_sum():
    res, _ = _run(3, '''
# 20 bytes and 64 kB (the check, then an Iallreduce Tested in this thread) and 2 MB
# (the check, then MPI's blocking Allreduce on the waiting thread)
for n in (5, 1 << 14, 1 << 19):
    x = np.arange(n, dtype=np.float32) * (RANK + 1)
    workspace.FeedBlob("x", x)
    run("Allreduce", ["cw", "x"], ["x"])
    want = np.arange(n, dtype=np.float32) * (SIZE * (SIZE + 1) // 2)  # exact in float32
    report(n=n, same=bool(np.array_equal(workspace.FetchBlob("x"), want)))
''')
    assert res.returncode == 0, res.stderr
    assert len(res.results) == 9 and all(r["same"] for r in res.results)
