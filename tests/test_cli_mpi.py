"""``caffe2lite run`` under mpiexec: ``--shard-inputs`` gives each rank its part of the
inputs, the collective ops in the net combine the ranks, ``{rank}`` names each rank's
output file. Skipped with the reason where MPI is missing."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from caffe2lite.cli.run import shard_inputs
from caffe2lite.distributed import mpi_launch
from caffe2lite.cli.common import UsageError

WHY = mpi_launch.unavailable()

NET = """
name: "sharded_sum"
op { output: "cw" type: "MPICreateCommonWorld" }
op { input: "X" output: "partial" type: "ReduceSum" arg { name: "axes" ints: 0 } arg { name: "keepdims" i: 0 } }
op { input: "X" output: "rows" type: "Shape" }
op { input: "cw" input: "partial" output: "partial" type: "MPIAllreduce" }
external_input: "X"
external_output: "partial"
external_output: "rows"
"""


def test_shard_inputs_splits_the_first_axis_in_rank_order():
    x = np.arange(14, dtype=np.float32).reshape(7, 2)
    parts = [shard_inputs({"X": x}, r, 3)["X"] for r in range(3)]
    assert [p.shape[0] for p in parts] == [3, 2, 2]
    np.testing.assert_array_equal(np.concatenate(parts), x)
    assert shard_inputs({"X": x}, 0, 1)["X"].tolist() == x.tolist()
    with pytest.raises(UsageError, match=r"^--shard-inputs: input 'X' has 7 rows, fewer "
                                         r"than the 8 ranks$"):
        shard_inputs({"X": x}, 0, 8)
    with pytest.raises(UsageError, match="is a scalar"):
        shard_inputs({"s": np.float32(1)}, 0, 2)


@pytest.mark.skipif(WHY is not None, reason=f"needs MPI: {WHY}")
@pytest.mark.parametrize("ranks", [2, 3])
def test_run_under_mpiexec_each_rank_reads_its_shard(ranks, tmp_path):
    x = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "net.pbtxt").write_text(NET)
    env = dict(os.environ, HYDRA_IFACE="lo")
    env.pop("PMI_SIZE", None)
    proc = subprocess.run(
        [mpi_launch.mpiexec(), "-n", str(ranks), "-host", "localhost", sys.executable,
         "-m", "caffe2lite", "run", str(tmp_path / "net.pbtxt"),
         "--input", f"X={tmp_path / 'x.npy'}", "--shard-inputs",
         "--save", str(tmp_path / "out_{rank}.npz")],
        capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = []
    for rank in range(ranks):
        with np.load(tmp_path / f"out_{rank}.npz", allow_pickle=False) as saved:
            np.testing.assert_allclose(saved["partial"], x.sum(axis=0), rtol=1e-5)
            rows.append(int(saved["rows"][0]))
    assert rows == [len(p) for p in np.array_split(x, ranks)]
