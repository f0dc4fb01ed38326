"""Starting a Python script on N local MPI ranks (mpiexec on loopback), bounded in time.

Used by the tests and benchmarks of the collective ops; each rank reports JSON lines
into its own file (ranks share one stdout, where lines can interleave).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any


def unavailable() -> str | None:
    """Why multi-rank runs cannot happen here (None when they can)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return 'mpi4py is not installed (pip install "caffe2lite[mpi]")'
    if mpiexec() is None:
        return "no mpiexec on PATH or beside the Python interpreter"
    return None


def mpiexec() -> str | None:
    """The mpiexec of this environment (the one beside the interpreter first)."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return here if os.access(here, os.X_OK) else shutil.which("mpiexec")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    results: list[Any]  # every reported JSON value, rank by rank

    def by_rank(self) -> dict[int, Any]:
        return {r["rank"]: r for r in self.results if isinstance(r, dict) and "rank" in r}


def run(n: int, script: str, *, timeout: float = 30.0, args: tuple[str, ...] = (),
        env: dict[str, str | None] | None = None) -> Run:
    """Run ``script`` (Python source) on ``n`` ranks of this machine, with ``env``
    added to the environment (a None value removes the variable); raise
    ``subprocess.TimeoutExpired`` after ``timeout`` seconds (the job is killed)."""
    exe = mpiexec()
    if exe is None:
        raise RuntimeError(unavailable() or "no mpiexec")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ranks.py")
        with open(path, "w") as f:
            f.write(script)
        extra = env or {}
        environ = dict(os.environ, PYTHONUNBUFFERED="1", HYDRA_IFACE="lo",
                       CAFFE2LITE_RANK_RESULTS=tmp)
        environ.pop("PMI_SIZE", None)
        for key, value in extra.items():
            if value is None:
                environ.pop(key, None)
            else:
                environ[key] = value
        cmd = [exe, "-n", str(n), "-host", "localhost", sys.executable, path, *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=environ, cwd=tmp, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.communicate()
            raise
        results: list[Any] = []
        for name in sorted(f for f in os.listdir(tmp) if f.startswith("result-")):
            with open(os.path.join(tmp, name)) as f:
                results.extend(json.loads(line) for line in f if line.strip())
    return Run(proc.returncode, out, err, results)


# The head of a rank script: RANK and SIZE from MPI, report(**values) records a result.
PRELUDE = '''
import json
import numpy as np
from mpi4py import MPI
from caffe2lite import core, workspace
import os
RANK, SIZE = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
_RESULTS = os.path.join(os.environ["CAFFE2LITE_RANK_RESULTS"], "result-%05d.jsonl" % RANK)


def report(**values):
    as_list = lambda v: v.tolist() if isinstance(v, (np.ndarray, np.generic)) else str(v)
    with open(_RESULTS, "a") as f:
        f.write(json.dumps(dict(values, rank=RANK), default=as_list) + chr(10))


def run(op_type, inputs, outputs, **args):
    workspace.RunOperatorOnce(core.CreateOperator(op_type, inputs, outputs, **args))


def error_of(op_type, inputs, outputs, **args):
    try:
        run(op_type, inputs, outputs, **args)
    except Exception as e:
        return type(e).__name__ + ": " + str(e)
    return None


run("CreateCommonWorld", [], ["cw"], name="cw", size=SIZE, rank=RANK, timeout_ms=20000)
'''
