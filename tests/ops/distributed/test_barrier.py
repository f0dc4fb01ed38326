"""Barrier: returns once every rank reached it; bounded by the world's timeout."""

from __future__ import annotations

import numpy as np

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError
from caffe2lite.schema import registry


def test_one_rank_returns_at_once(world_ws):
    world_ws.run_operator_once(CreateOperator("Barrier", ["cw"], []))


def test_needs_a_world():
    testing.check_raises(CreateOperator("Barrier", ["cw"], []), {"cw": np.zeros(1)},
                         EnforceError, "input 0 must be a common world")


def test_gradient_decision():
    assert registry.gradient_entry("Barrier").kind == registry.SHOULD_NOT_DO


def test_ranks_wait_for_the_slowest(ranks):
    res = ranks(3, '''
import time
if RANK == 2:
    time.sleep(0.5)
start = time.monotonic()
run("Barrier", ["cw"], [])
report(after=time.time())
''')
    assert res.returncode == 0, res.stderr
    times = sorted(r["after"] for r in res.results)
    assert len(times) == 3 and times[-1] - times[0] < 0.3
