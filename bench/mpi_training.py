"""Rows of section ``mpi``: data-parallel training throughput of the CTR example, 1
rank against 2.

The click-through-rate example (examples/ctr_model: three embedding bags of
SparseLengthsSum, FC, Relu, FC, sigmoid cross-entropy, SGD) built by
``data_parallel_model.Parallelize`` and run under ``mpiexec -n 1`` and ``-n 2`` on
this machine (loopback). Each rank trains on its own batch of ``BATCH`` examples
(weak scaling: 2 ranks see twice the examples per step); per step the gradients are
allreduced (the embeddings' sparse gradients made dense first) before the SGD
update. On 1 rank there is no collective (one shard is the single-host case). The
time of ``STEPS`` steps of the created train net (``RunNet``, after a warm-up step,
a barrier before; the batch is fed once, outside the timing) on the slower rank,
best of several runs; one BLAS thread per rank in both. Throughput = examples per
second over all ranks; the ratio is
2 ranks' throughput over 1 rank's. Target: at least 1.6x on a machine with 2 or more
cores.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from bench.common import Config, Row, Target, compare, missing

SECTION = "mpi"
BATCH = 2048
STEPS = 5
REPO = str(Path(__file__).resolve().parent.parent)
# one BLAS / OpenMP thread per rank (else 2 ranks x 2 BLAS threads oversubscribe 2
# cores and MPI's busy waiting competes with them: 12x slower on this machine)
ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}

SCRIPT = '''
import sys, time
sys.path.insert(0, REPO)
from examples.ctr_model import _model as ctr
from caffe2lite import data_parallel_model, model_helper, optimizer

batch, steps, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
cfg = ctr.Config(batch=batch, dropout=0.0)
forward = ctr.parallel_forward(cfg)

# this rank's batch: the example's data net with a seed of its own
previous = workspace.CurrentWorkspace()
workspace.SwitchWorkspace("data", True)
workspace.RunNetOnce(ctr.build_init(cfg))
workspace.RunNetOnce(ctr.build_data(cfg, "ctr_data_train", cfg.seed + 1000 + 7919 * RANK))
names = [f"{k}_{f}" for f in range(cfg.features) for k in ("ids", "lengths")] + ["dense", "label"]
data = {n: workspace.FetchBlob(n) for n in names}
workspace.SwitchWorkspace(previous)

rendezvous = dict(shard_id=RANK, num_shards=SIZE, engine="GLOO")
model = model_helper.ModelHelper(name="ctr_bench")
data_parallel_model.Parallelize(
    model, lambda m: None, forward, cpu_device=True, devices=[0], rendezvous=rendezvous,
    optimizer_builder_fun=lambda m: optimizer.build_sgd(m, base_learning_rate=cfg.base_lr))
workspace.RunNetOnce(model.param_init_net)
for n, v in data.items():
    workspace.FeedBlob("cpu_0/" + n, v)
workspace.CreateNet(model.net)
name = model.net.Proto().name
workspace.RunNet(name)  # warm-up
comm = MPI.COMM_WORLD
best = float("inf")
for _ in range(repeats):
    comm.Barrier()
    start = time.perf_counter()
    workspace.RunNet(name, steps)
    best = min(best, time.perf_counter() - start)
report(seconds=best, loss=float(workspace.FetchBlob("cpu_0/loss")))
'''


def rows(config: Config) -> list[Row]:
    """The throughput rows: 1 rank, and 2 ranks against it."""
    from caffe2lite.distributed import mpi_launch

    why = mpi_launch.unavailable()
    if why is not None:
        return [missing(SECTION, "CTR training 1 rank", why),
                missing(SECTION, "CTR training 2 ranks vs 1", why)]
    small = config.repeats <= 1
    batch, steps = (256, 2) if small else (BATCH, STEPS)
    repeats = max(1, min(config.repeats * 2, 12))
    seconds = {}
    for n in (1, 2):
        res = mpi_launch.run(n, f"REPO = {REPO!r}\n" + mpi_launch.PRELUDE + SCRIPT,
                             timeout=300.0, args=(str(batch), str(steps), str(repeats)),
                             env=ONE_THREAD)
        if res.returncode != 0:
            raise RuntimeError(f"the MPI training benchmark failed: {res.stderr[-1000:]}")
        seconds[n] = max(r["seconds"] for r in res.results)  # the slower rank
    rate = {n: n * batch * steps / seconds[n] for n in seconds}
    cores = os.cpu_count() or 1
    per_example = {n: seconds[n] / (n * batch * steps) * 1e6 for n in seconds}
    return [
        Row(SECTION, "CTR training 1 rank", per_example[1], "us/example",
            note=f"{rate[1] / 1e3:.1f}k examples/s; batch {batch}, {steps} steps"),
        compare(SECTION, "CTR training 2 ranks vs 1", per_example[2], "us/example",
                "1 rank", per_example[1], Target(1.6) if cores >= 2 else None,
                note=f"{rate[2] / 1e3:.1f}k examples/s over 2 ranks (batch {batch} each); "
                     f"{cores} cores"),
    ]


def run(config: Config) -> list[Row]:
    return rows(config)


if __name__ == "__main__":  # pragma: no cover - a quick look by hand
    sys.path.insert(0, REPO)
    start = time.perf_counter()
    for row in run(Config()):
        print(row)
    print(f"{time.perf_counter() - start:.1f} s")
