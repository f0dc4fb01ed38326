"""The common world of the collective ops: one MPI communicator (through mpi4py).

Caffe2 ran its collectives on Gloo (``CreateCommonWorld`` ... with engine GLOO) or
on MPI (``MPICreateCommonWorld`` ...). caffe2lite runs both families on MPI: the
common world blob is a :class:`CommonWorld` holding a duplicate of
``MPI.COMM_WORLD``, and the Gloo-named ops check their ``size`` / ``rank``
arguments against it.

Every collective is waited for with a deadline (``timeout_ms``; Gloo's default of
30 s when not set), so a rank that died or never ran the op ends the others with a
clear error instead of a hang. A collective is started non-blocking and ``Test``-ed
in the calling thread for a short while (:func:`_settle`; ranks that arrive together
finish there); a rank kept waiting longer, and a large Allreduce from the start, hand
the blocking MPI call to a helper thread (:class:`_Waiter`) while the caller waits on
a lock with the rest of the timeout. A rank that timed out refuses every later MPI
call and aborts the whole MPI job when its process exits (its collective is still
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
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from caffe2lite.distributed import allocator
from caffe2lite.errors import EnforceError

DEFAULT_TIMEOUT_MS = 30000  # Gloo's default timeout
EXTRA = 'the MPI collectives need the "mpi" extra: pip install "caffe2lite[mpi]" (mpi4py and an MPI)'
_LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS")
_SIGNATURE_BYTES = 1024
# Test in the calling thread this long before handing MPI_Wait over (waking the
# waiting thread costs a GIL hand-over that a busy machine stretches to milliseconds).
# Chosen from A/B runs of the CTR training on this shared 2-core machine: 2 ms was the
# steadiest; 10 or 50 ms, with or without yielding the core between Tests, no better.
SPIN_S = 0.002
SMALL_BYTES = 1 << 20  # an Allreduce up to this size is started and Tested here
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
        self._signatures: dict[tuple, np.ndarray] = {}
        self._every = np.empty((self.size, _SIGNATURE_BYTES), np.uint8)
        self._in_place = self._sum = None  # MPI.IN_PLACE and MPI.SUM, looked up once
        if comm is not None:
            self._in_place, self._sum = mpi().IN_PLACE, mpi().SUM

    @classmethod
    def create(cls, *, name: str = "", timeout_ms: int = -1,
               op: str = "CreateCommonWorld") -> CommonWorld:
        """A world over every rank MPI started (or a world of one outside mpiexec).

        A world of more than one rank also keeps freed memory mapped in this process
        (:func:`caffe2lite.distributed.allocator.keep_freed_memory`)."""
        if not launched_by_mpi():
            return cls(None, name=name, timeout_ms=timeout_ms)
        world = cls(mpi().COMM_WORLD, name=name, timeout_ms=timeout_ms)._dup(op)
        if world.size > 1:
            allocator.keep_freed_memory()
        return world

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

    def _wait(self, request: Any, op: str, status: Any = None) -> None:
        """Wait for ``request`` at most the world's timeout (see :func:`_settle`); a
        timeout or an MPI error is an error naming ``op``."""
        _settle(request, op, self.timeout_ms, self.rank, self.size, status)

    def check_same(self, op: str, blobs: Sequence[tuple[str, np.ndarray]],
                   then: Callable[[], Any] | None = None) -> None:
        """Every rank holds blobs of the same names, shapes and types (else an error
        naming the blob and the ranks, on every rank).

        ``then`` (run only when they agree, on every rank, on the waiting thread)
        may run the collective the check guards, blocking, or start it and return its
        request: the check and the collective take one hand-over to the waiting
        thread and share one deadline."""
        if self.comm is None:
            return
        if self.closed:
            self._check_open(op)
        sig = self._signature(blobs)
        if then is None:
            _settle(self.comm.Iallgather(sig, self._every), op, self.timeout_ms, self.rank,
                    self.size)
            if not self._agree():
                raise _mismatch_error(op, self._every)
            return
        agree = [False]

        def check_then_run() -> None:
            self.comm.Iallgather(sig, self._every).Wait()
            agree[0] = self._agree()
            if agree[0]:
                request = then()
                if request is not None:
                    request.Wait()

        _call(check_then_run, op, self.timeout_ms, self.rank, self.size)
        if not agree[0]:
            raise _mismatch_error(op, self._every)

    def _agree(self) -> bool:
        """Whether every rank's gathered signature hash equals rank 0's."""
        hashes = self._every[:, :16].tobytes()
        return hashes == hashes[:16] * self.size

    def _signature(self, blobs: Sequence[tuple[str, np.ndarray]]) -> np.ndarray:
        """The bytes a rank sends to the check: a hash of the shapes and types, then
        the names with them (for the message); kept per blob list (a training net
        sends the same few lists every iteration)."""
        key = tuple([(n, a.dtype, a.shape) for n, a in blobs])
        sig = self._signatures.get(key)
        if sig is not None:
            return sig
        # names are reported, but only types and shapes must agree (ranks may name
        # their blobs differently)
        kinds = ";".join(f"{a.dtype.str}{tuple(a.shape)}" for _, a in blobs).encode()
        raw = ";".join(f"{n}:{a.dtype.str}{tuple(a.shape)}" for n, a in blobs).encode()
        sig = np.zeros(_SIGNATURE_BYTES, np.uint8)
        sig[:16] = np.frombuffer(hashlib.blake2b(kinds, digest_size=16).digest(), np.uint8)
        body = raw[: _SIGNATURE_BYTES - 16]
        sig[16:16 + len(body)] = np.frombuffer(body, np.uint8)
        sig.flags.writeable = False
        if len(self._signatures) >= 4096:
            self._signatures.clear()
        self._signatures[key] = sig
        return sig

    # -- collectives (numpy in, new numpy out) ------------------------------------
    def allreduce_checked(self, op: str, blobs: Sequence[tuple[str, np.ndarray]],
                          make_buffer: Callable[[], np.ndarray]) -> np.ndarray:
        """:meth:`check_same` on ``blobs``, then, only when every rank agrees,
        ``buf = make_buffer()`` (the local sum, written where the caller chose) becomes
        the sum of every rank's ``buf`` in place (MPI_IN_PLACE: no second buffer, no
        copy); both waited for in one hand-over. Nothing is written when the check
        fails; after a timeout the buffer's values are undefined (the world is broken
        and the job is aborted at exit)."""
        if self.closed:
            self._check_open(op)
        if self.comm is None:
            return make_buffer()
        if sum([a.nbytes for _, a in blobs]) <= SMALL_BYTES:
            # small: both steps done in this thread (non-blocking, Test for a short
            # while, MPI_Wait on the waiting thread only if that was not enough)
            self.check_same(op, blobs)
            buf = make_buffer()
            _settle(self.comm.Iallreduce(self._in_place, buf, op=self._sum), op,
                    self.timeout_ms, self.rank, self.size)
            return buf
        made: list[np.ndarray] = []

        def start() -> None:  # on the waiting thread: the blocking call itself (MPICH's
            made.append(make_buffer())  # in-place Allreduce is faster than Iallreduce)
            self.comm.Allreduce(self._in_place, made[0], op=self._sum)

        self.check_same(op, blobs, then=start)
        return made[0]

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
        self._wait(request, op, status)
        if status.Get_count(MPI.BYTE) != flat.size:
            raise EnforceError(f"{op}: the message has {status.Get_count(MPI.BYTE)} bytes, "
                               f"Y has {flat.size}", blob="Y", expected=f"{flat.size} bytes",
                               found=status.Get_count(MPI.BYTE))
        return out, status.Get_source(), status.Get_tag()

    def barrier(self, op: str) -> None:
        self._check_open(op)
        if self.comm is not None:
            self._wait(self.comm.Ibarrier(), op)


class _Waiter:
    """One daemon thread that makes the blocking MPI calls (``Request.Wait``) while
    the calling thread waits on a lock with a timeout.

    MPI has no timed wait, and polling ``Test`` from Python is slow (MPICH advances
    a non-blocking collective only a little per ``Test``: a 1 MB allreduce took
    about 20 ms that way against 0.6 ms in ``Wait``). Here ``Wait`` runs at MPI's
    own speed (mpi4py releases the GIL inside it) and the caller still gets its
    error at the deadline: the thread stays stuck in the unfinished call, every later
    call fails at once, and the job is aborted when the process exits (MPI cannot
    finalize with a collective pending). The hand-over costs two lock operations."""

    def __init__(self) -> None:
        self._gate = threading.Lock()   # one caller at a time
        self._start = threading.Lock()  # released by the caller: a call is ready
        self._done = threading.Lock()   # released by the thread: the call returned
        self._start.acquire()
        self._done.acquire()
        self._fn: Callable[[], Any] | None = None
        self._outcome: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.stuck_in = ""  # the op whose call never returned

    def _loop(self) -> None:
        while True:
            self._start.acquire()
            fn, self._fn = self._fn, None
            try:
                fn()  # type: ignore[misc]
                self._outcome = None
            except BaseException as e:  # noqa: BLE001  (handed to the caller, raised there)
                self._outcome = e
            self._done.release()

    def call(self, fn: Callable[[], Any], timeout_s: float) -> BaseException | bool:
        """Run ``fn`` on the thread: True when it returned, False at the timeout, or
        the exception it raised."""
        if not self._gate.acquire(timeout=max(timeout_s, 0.0)):
            return False
        try:
            if self._thread is None or self._pid != os.getpid():  # (a forked child has
                self._pid = os.getpid()                           # no thread of its own)
                self._thread = threading.Thread(target=self._loop, daemon=True,
                                                name="caffe2lite-mpi-wait")
                self._thread.start()
            self._fn = fn
            self._start.release()
            if not self._done.acquire(timeout=max(timeout_s, 0.0)):
                return False
            outcome, self._outcome = self._outcome, None
            return True if outcome is None else outcome
        finally:
            if not self.stuck_in:
                self._gate.release()


_WAITER = _Waiter()


def _settle(request: Any, op: str, timeout_ms: int, rank: int, size: int,
            status: Any = None) -> None:
    """Complete ``request`` within ``timeout_ms``: ``Test`` in this thread for up to
    SPIN_S (at most half the timeout; a collective whose ranks arrive together is
    done by then, without the hand-over to the waiting thread), then MPI_Wait on the
    waiting thread for the rest of the time."""
    _refuse_if_stuck(op, rank, size)
    start = time.perf_counter()
    end = start + min(SPIN_S, timeout_ms / 2000.0)
    try:
        while not request.Test(status):
            if time.perf_counter() > end:
                break
        else:
            return
    except Exception as e:  # mpi4py.MPI.Exception
        if type(e).__module__.startswith("mpi4py"):
            raise EnforceError(f"{op}: MPI failed: {e}", expected="a completed MPI call",
                               found=type(e).__name__) from None
        raise
    spent_ms = int((time.perf_counter() - start) * 1000)
    _call(request.Wait if status is None else (lambda: request.Wait(status)), op,
          max(timeout_ms - spent_ms, 0), rank, size, report_ms=timeout_ms)


def _refuse_if_stuck(op: str, rank: int, size: int) -> None:
    if _WAITER.stuck_in:
        raise EnforceError(
            f"{op}: an earlier collective ({_WAITER.stuck_in}) did not complete on rank "
            f"{rank} of {size}, so no MPI call can run in this process any more (the MPI "
            f"job is aborted when it exits)", expected="a working MPI world",
            found="a collective that timed out")


def _call(fn: Callable[[], Any], op: str, timeout_ms: int, rank: int, size: int,
          report_ms: int | None = None) -> None:
    """``fn()`` (a blocking MPI call) within ``timeout_ms``, with MPI's own errors (a
    truncated message ...) and the timeout made clear errors naming ``op``."""
    global _broken
    _refuse_if_stuck(op, rank, size)
    outcome = _WAITER.call(fn, timeout_ms / 1000.0)
    timeout_ms = timeout_ms if report_ms is None else report_ms
    if outcome is True:
        return
    if outcome is False:
        _broken = True
        _WAITER.stuck_in = op
        raise EnforceError(
            f"{op} did not complete within {timeout_ms} ms on rank {rank} of {size}: "
            f"another rank died, stopped or did not run the same collective (the MPI "
            f"job is aborted when this process exits)",
            expected=f"every rank in {op} within timeout_ms", found="a timeout")
    if type(outcome).__module__.startswith("mpi4py"):
        raise EnforceError(f"{op}: MPI failed: {outcome}", expected="a completed MPI call",
                           found=type(outcome).__name__) from None
    raise outcome


def _mismatch_error(op: str, every: np.ndarray) -> EnforceError:
    """The error of ranks whose signatures (rows of ``every``) differ."""
    texts = [bytes(row[16:]).rstrip(b"\0").decode(errors="replace") for row in every]
    return EnforceError(_mismatch(op, [t.split(";") if t else [] for t in texts]),
                        expected="the same blobs on every rank", found="different ones")


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
