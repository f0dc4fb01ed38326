"""Fixtures of the collective-op tests: a workspace holding a world of one rank, a
raises-and-changes-nothing check for it, and multi-rank runs under mpiexec (skipped
with the reason when mpi4py or mpiexec is missing)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator
from caffe2lite.distributed import mpi_launch
from caffe2lite.workspace import Workspace


@pytest.fixture
def world_ws() -> Workspace:
    """A workspace whose blob "cw" is a common world of one rank (outside mpiexec)."""
    ws = Workspace()
    ws.run_operator_once(CreateOperator("CreateCommonWorld", [], ["cw"], name="cw", size=1,
                                        rank=0))
    return ws


def _raises_and_keeps_blobs(ws, op, error, match):
    before = {n: ws.fetch_blob(n) for n in list(ws.blobs) if n != "cw"}
    with pytest.raises(error, match=match) as info:
        ws.run_operator_once(op)
    for n, v in before.items():
        np.testing.assert_array_equal(ws.fetch_blob(n), v)
    return info.value


@pytest.fixture
def raises_keeping():
    """check_raises for a workspace holding a world (which cannot be fed)."""
    return _raises_and_keeps_blobs


@pytest.fixture
def ranks():
    """``ranks(n, body)`` runs PRELUDE + body on n local ranks (skips without MPI)."""
    why = mpi_launch.unavailable()
    if why is not None:
        print(f"skipped: {why}")
        pytest.skip(why)

    def run(n, body, timeout=40):
        return mpi_launch.run(n, mpi_launch.PRELUDE + body, timeout=timeout)

    return run
