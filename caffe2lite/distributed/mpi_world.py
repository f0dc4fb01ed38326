"""The common world of the collective ops: one MPI communicator (through mpi4py).

Caffe2 ran its collectives on Gloo (``CreateCommonWorld`` ... with engine GLOO) or
on MPI (``MPICreateCommonWorld`` ...). caffe2lite runs both families on MPI: the
common world blob is a :class:`CommonWorld` holding a duplicate of
``MPI.COMM_WORLD``, and the Gloo-named ops check their ``size`` / ``rank``
arguments against it.

Every collective is started non-blocking and waited for with a deadline
(``timeout_ms``; Gloo's default of 30 s when not set), so a rank that died or never
ran the op ends the others with a clear error instead of a hang. A rank that timed
out aborts the whole MPI job when its process exits (its collective is still
pending, so MPI could not finalize). Before reducing, the ranks compare the names,
shapes and types of their blobs: a mismatch is an error naming the blob and the
ranks on every rank.

A process that was not started by an MPI launcher (mpiexec) gets a world of one
rank without needing MPI at all, so a data-parallel script also runs on its own.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from caffe2lite.errors import EnforceError

DEFAULT_TIMEOUT_MS = 30000  # Gloo's default timeout
EXTRA = 'the MPI collectives need the "mpi" extra: pip install "caffe2lite[mpi]" (mpi4py and an MPI)'
_LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")
_SIGNATURE_BYTES = 1024
_broken = False


def launched_by_mpi() -> bool:
    """Whether an MPI launcher (mpiexec, mpirun) started this process."""
    return any(v in os.environ for v in _LAUNCHER_VARS)


def launcher_rank_and_size() -> tuple[int, int]:
    """``(rank, size)`` of this process as its MPI launcher set them in the environment
    (MPICH/Hydra, Open MPI), without importing MPI; ``(0, 1)`` outside a launcher."""
    for rank_var, size_var in (("PMI_RANK", "PMI_SIZE"),
                               ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE")):
        if rank_var in os.environ and size_var in os.environ:
            return int(os.environ[rank_var]), int(os.environ[size_var])
    return 0, 1


def mpi() -> Any:
    """The ``mpi4py.MPI`` module, or an error naming the extra."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise EnforceError(f"{EXTRA} ({e})", expected="mpi4py installed",
                           found="not importable") from None
    return MPI


def _abort_if_broken() -> None:
    if _broken:
        sys.stdout.flush()
        sys.stderr.flush()
        mpi().COMM_WORLD.Abort(1)


atexit.register(_abort_if_broken)


class CommonWorld:
    """A communicator for the collective ops (a blob value, not a tensor).

    >>> w = CommonWorld(None)
    >>> (w.rank, w.size)
    (0, 1)
    """

    def __init__(self, comm: Any, *, name: str = "", timeout_ms: int = -1) -> None:
        self.comm = comm
        self.name = name
        self.timeout_ms = DEFAULT_TIMEOUT_MS if timeout_ms < 0 else timeout_ms
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.closed = False
        self.mailbox: list[tuple[int, bytes]] = []  # a world of one: (tag, bytes) sent to itself

    @classmethod
    def create(cls, *, name: str = "", timeout_ms: int = -1,
               op: str = "CreateCommonWorld") -> CommonWorld:
        """A world over every rank MPI started (or a world of one outside mpiexec)."""
        if not launched_by_mpi():
            return cls(None, name=name, timeout_ms=timeout_ms)
        return cls(mpi().COMM_WORLD, name=name, timeout_ms=timeout_ms)._dup(op)

    def clone(self) -> CommonWorld:
        """A new world of the same ranks (its own MPI communicator)."""
        self._check_open("CloneCommonWorld")
        if self.comm is None:
            return CommonWorld(None, name=self.name, timeout_ms=self.timeout_ms)
        return self._dup("CloneCommonWorld")

    def _dup(self, op: str) -> CommonWorld:
        """A world on a duplicate of this communicator (MPI_Comm_idup: every rank must
        come, within the timeout)."""
        comm, request = self.comm.Idup()
        self._wait(request, op)
        return CommonWorld(comm, name=self.name, timeout_ms=self.timeout_ms)

    def close(self) -> None:
        self.closed = True

    def __repr__(self) -> str:
        state = ", closed" if self.closed else ""
        return f"CommonWorld(rank={self.rank}, size={self.size}{state})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CommonWorld) and (self.rank, self.size, self.closed)
                == (other.rank, other.size, other.closed))

    __hash__ = object.__hash__

    # -- waiting with a deadline ------------------------------------------------
    def _check_open(self, op: str) -> None:
        if self.closed:
            raise EnforceError(f"{op}: the common world was destroyed (DestroyCommonWorld)",
                               blob="comm_world", expected="an open common world",
                               found="a destroyed one")

    def _wait(self, request: Any, op: str) -> None:
        global _broken
        start = time.monotonic()
        deadline = start + self.timeout_ms / 1000.0
        # MPI progresses a non-blocking collective only inside Test: poll without
        # pausing for the first 50 ms (a collective of a few MB takes several steps,
        # each waiting for a Test), then back off to a millisecond between polls.
        spin_until = start + 0.05
        pause = 0.0
        while not _test(request, op):
            now = time.monotonic()
            if now < spin_until:
                continue
            if now > deadline:
                _broken = True
                raise EnforceError(
                    f"{op} did not complete within {self.timeout_ms} ms on rank "
                    f"{self.rank} of {self.size}: another rank died, stopped or did not "
                    f"run the same collective (the MPI job is aborted when this process "
                    f"exits)", expected=f"every rank in {op} within timeout_ms",
                    found="a timeout")
            time.sleep(pause)
            pause = min(0.001, pause + 0.00005)

    def check_same(self, op: str, blobs: Sequence[tuple[str, np.ndarray]]) -> None:
        """Every rank holds blobs of the same names, shapes and types (else an error
        naming the blob and the ranks, on every rank)."""
        if self.comm is None:
            return
        # names are reported, but only types and shapes must agree (ranks may name
        # their blobs differently)
        kinds = ";".join(f"{a.dtype.str}{tuple(a.shape)}" for _, a in blobs).encode()
        raw = ";".join(f"{n}:{a.dtype.str}{tuple(a.shape)}" for n, a in blobs).encode()
        buf = np.zeros(_SIGNATURE_BYTES, np.uint8)
        buf[:16] = np.frombuffer(hashlib.blake2b(kinds, digest_size=16).digest(), np.uint8)
        body = raw[: _SIGNATURE_BYTES - 16]
        buf[16:16 + len(body)] = np.frombuffer(body, np.uint8)
        every = np.empty((self.size, _SIGNATURE_BYTES), np.uint8)
        self._wait(self.comm.Iallgather(buf, every), op)
        if (every[:, :16] == every[0, :16]).all():
            return
        texts = [bytes(row[16:]).rstrip(b"\0").decode(errors="replace") for row in every]
        raise EnforceError(_mismatch(op, [t.split(";") if t else [] for t in texts]),
                           expected="the same blobs on every rank", found="different ones")

    # -- collectives (numpy in, new numpy out) ------------------------------------
    def allreduce_sum(self, x: np.ndarray, op: str) -> np.ndarray:
        self._check_open(op)
        out = np.empty_like(x)
        if self.comm is None:
            out[...] = x
            return out
        send = np.ascontiguousarray(x)  # held until the call completes: MPI reads it
        self._wait(self.comm.Iallreduce(send, out, op=mpi().SUM), op)
        return out

    def reduce_sum(self, x: np.ndarray, root: int, op: str) -> np.ndarray:
        self._check_open(op)
        out = np.empty_like(x)
        if self.comm is None:
            out[...] = x
            return out
        send = np.ascontiguousarray(x)  # held until the call completes: MPI reads it
        self._wait(self.comm.Ireduce(send, out, op=mpi().SUM, root=root), op)
        return out

    def broadcast(self, x: np.ndarray, root: int, op: str) -> np.ndarray:
        self._check_open(op)
        out = np.array(x, copy=True, order="C")
        if self.comm is not None:
            self._wait(self.comm.Ibcast(out.view(np.uint8).reshape(-1), root=root), op)
        return out

    def reduce_scatter_sum(self, x: np.ndarray, counts: np.ndarray, op: str) -> np.ndarray:
        """This rank's ``counts[rank]`` elements of the sum of flat ``x`` over ranks (the
        segments in rank order)."""
        self._check_open(op)
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.empty(int(counts[self.rank]), x.dtype)
        if self.comm is None:
            out[...] = flat[: out.size]
            return out
        self._wait(self.comm.Ireduce_scatter(flat, out, [int(c) for c in counts],
                                             op=mpi().SUM), op)
        return out

    def allgather(self, x: np.ndarray, op: str) -> np.ndarray:
        """The ranks' ``x`` stacked along a new first axis (rank order)."""
        self._check_open(op)
        out = np.empty((self.size,) + x.shape, x.dtype)
        if self.comm is None:
            out[0] = x
            return out
        send = np.ascontiguousarray(x)  # held until the call completes: MPI reads it
        self._wait(self.comm.Iallgather(send, out), op)
        return out

    def send(self, x: np.ndarray, dst: int, tag: int, op: str) -> None:
        """Send X's bytes to rank ``dst`` with ``tag``."""
        self._check_open(op)
        data = np.ascontiguousarray(x).view(np.uint8).reshape(-1)
        if self.comm is None:
            self.mailbox.append((tag, data.tobytes()))
            return
        self._wait(self.comm.Isend(data, dest=dst, tag=tag), op)

    def receive(self, like: np.ndarray, src: int, tag: int, op: str) -> tuple[np.ndarray, int, int]:
        """Receive into a new array like ``like`` (its size in bytes) from ``src`` with
        ``tag`` (ANY_SOURCE = -2, ANY_TAG = -1, MPICH's values): (data, source, tag)."""
        self._check_open(op)
        out = np.empty_like(like, order="C")
        flat = out.view(np.uint8).reshape(-1)
        if self.comm is None:
            for i, (t, data) in enumerate(self.mailbox):
                if tag in (-1, t):
                    if len(data) != flat.size:
                        raise EnforceError(f"{op}: the message has {len(data)} bytes, Y has "
                                           f"{flat.size}", blob="Y",
                                           expected=f"{flat.size} bytes", found=len(data))
                    del self.mailbox[i]
                    flat[:] = np.frombuffer(data, np.uint8)
                    return out, 0, t
            raise EnforceError(f"{op}: no message from rank {src} with tag {tag} in a world "
                               "of one (it would wait forever)", expected="a message sent "
                               "before", found="none")
        MPI = mpi()
        status = MPI.Status()
        source = MPI.ANY_SOURCE if src == -2 else src
        any_tag = MPI.ANY_TAG if tag == -1 else tag
        request = self.comm.Irecv(flat, source=source, tag=any_tag)
        self._wait_status(request, status, op)
        if status.Get_count(MPI.BYTE) != flat.size:
            raise EnforceError(f"{op}: the message has {status.Get_count(MPI.BYTE)} bytes, "
                               f"Y has {flat.size}", blob="Y", expected=f"{flat.size} bytes",
                               found=status.Get_count(MPI.BYTE))
        return out, status.Get_source(), status.Get_tag()

    def _wait_status(self, request: Any, status: Any, op: str) -> None:
        class _WithStatus:
            def Test(self_inner) -> bool:
                return request.Test(status)
        self._wait(_WithStatus(), op)

    def barrier(self, op: str) -> None:
        self._check_open(op)
        if self.comm is not None:
            self._wait(self.comm.Ibarrier(), op)


def _test(request: Any, op: str) -> bool:
    """request.Test(), with MPI's own errors (a truncated message ...) made ours."""
    try:
        return bool(request.Test())
    except Exception as e:  # mpi4py.MPI.Exception
        if type(e).__module__.startswith("mpi4py"):
            raise EnforceError(f"{op}: MPI failed: {e}", expected="a completed MPI call",
                               found=type(e).__name__) from None
        raise


def _mismatch(op: str, per_rank: list[list[str]]) -> str:
    """The first blob whose shape or type differs between ranks, and on which ranks."""
    for i in range(max(len(r) for r in per_rank)):
        seen = [r[i] if i < len(r) else "(none)" for r in per_rank]
        if len({s.split(":", 1)[-1] for s in seen}) > 1:
            name = next(s.split(":")[0] for s in seen if s != "(none)")
            where = ", ".join(f"rank {k}: {_show(s)}" for k, s in enumerate(seen))
            return f"{op}: blob '{name}' differs between ranks ({where})"
    return f"{op}: the ranks gave different blobs"


def _show(desc: str) -> str:
    if ":" not in desc:
        return desc
    rest = desc.split(":", 1)[1]
    cut = rest.index("(")
    return f"{np.dtype(rest[:cut]).name} of shape {rest[cut:]}"
