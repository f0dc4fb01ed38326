"""Seeing a net run: per-op records, profiles, Chrome traces and callbacks.

A *hook* is a callable that receives one :class:`OpRun` after each op of a net ran
(its inputs, outputs and times). Nets run their tight loop when no hook is set;
with hooks they run a separate loop that times every op (see
:meth:`caffe2lite.runtime.net.CompiledNet.run`), so turning hooks off costs nothing.

- :class:`Profiler` is a hook that sums time, calls and output bytes per op type
  (:meth:`Profiler.table`) and, with ``trace=True``, keeps one Chrome trace event per
  op run (:meth:`Profiler.write_trace`, a file Perfetto and ``chrome://tracing`` open).
- Used as a context manager (``with Profiler() as prof: workspace.RunNet(...)``), a
  profiler sees every net run in this process while the block runs;
  ``workspace.RunNet(name, profile=True)`` prints the table of that run, and
  ``workspace.RunNet(name, on_op=fn)`` calls ``fn(op_run)`` after each op.

>>> from caffe2lite import core, workspace
>>> import numpy as np
>>> net = core.Net("prof_doc"); _ = net.Relu("X", "Y")
>>> workspace.FeedBlob("X", np.array([-1.0, 2.0], dtype=np.float32))
True
>>> _ = workspace.CreateNet(net, overwrite=True)
>>> with Profiler(trace=True) as prof:
...     _ = workspace.RunNet("prof_doc", 3)
>>> prof.calls["Relu"], len(prof.events)
(3, 3)
>>> prof.events[0]["args"]["inputs"], prof.events[0]["args"]["outputs"]
({'X': 'float32[2]'}, {'Y': 'float32[2]'})
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Iterable

import numpy as np

Hook = Callable[["OpRun"], Any]

# Profilers entered as context managers: every net run sees them while they are.
ACTIVE: list[Hook] = []


class OpRun:
    """One run of one op, as hooks see it.

    ``index`` (position in its net), ``op`` (its OperatorDef), ``type``, ``net``
    (the net's name), ``iteration`` (which of the ``num_iter`` runs), the blob
    names ``input_names`` / ``output_names``, the arrays ``inputs`` / ``outputs``
    (tuples in the op's order; the arrays the op read and wrote: do not modify
    them), and ``start`` / ``end`` (``time.perf_counter()`` seconds)."""

    __slots__ = ("index", "op", "net", "iteration", "inputs", "outputs", "start", "end")

    def __init__(self, index: int, op: Any, net: str, iteration: int, inputs: tuple,
                 outputs: tuple, start: float, end: float) -> None:
        self.index, self.op, self.net, self.iteration = index, op, net, iteration
        self.inputs, self.outputs, self.start, self.end = inputs, outputs, start, end

    @property
    def type(self) -> str:
        return self.op.type

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.op.input)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.op.output)[:len(self.outputs)]

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def output_bytes(self) -> int:
        """Bytes of the arrays the op returned (0 for non-arrays)."""
        return sum(v.nbytes for v in self.outputs if isinstance(v, np.ndarray))

    def describe(self) -> str:
        """``#3 Relu 'name': X float32[2, 3] -> Y float32[2, 3] (0.012 ms)``."""
        name = f" '{self.op.name}'" if self.op.name else ""
        ins = ", ".join(f"{n} {value_text(v)}" for n, v in zip(self.input_names, self.inputs))
        outs = ", ".join(f"{n} {value_text(v)}"
                         for n, v in zip(self.output_names, self.outputs))
        return (f"#{self.index} {self.type}{name}: {ins or '-'} -> {outs or '-'} "
                f"({self.seconds * 1e3:.3f} ms)")


def value_text(value: Any) -> str:
    """A blob's dtype and shape as text: ``float32[2, 3]``, ``bytes`` ...

    >>> value_text(np.zeros((2, 3), np.float32)), value_text(b"ab")
    ('float32[2, 3]', 'bytes')
    """
    if isinstance(value, np.ndarray):
        return f"{value.dtype}[{', '.join(str(d) for d in value.shape)}]"
    if value is None:
        return "empty"
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if dtype is not None and shape is not None:
        return f"{type(value).__name__} {dtype}[{', '.join(str(d) for d in shape)}]"
    return type(value).__name__


def merged_hooks(extra: Iterable[Hook | None] = ()) -> list[Hook]:
    """The hooks of one run: the active profilers and the given ones."""
    return [h for h in list(ACTIVE) + list(extra) if h is not None]


class Profiler:
    """A hook that profiles ops by type and can keep a Chrome trace.

    ``calls``, ``seconds`` and ``output_bytes`` are dicts keyed by op type;
    ``events`` the trace events (``trace=True``). Use it as a context manager, or
    pass it as a hook (``workspace.RunNet(name, on_op=prof)``)."""

    def __init__(self, trace: bool = False) -> None:
        self.trace = trace
        self.calls: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.output_bytes: dict[str, int] = {}
        self.events: list[dict[str, Any]] = []
        self._origin = time.perf_counter()
        self._pid = os.getpid()

    def __call__(self, run: OpRun) -> None:
        t = run.type
        self.calls[t] = self.calls.get(t, 0) + 1
        self.seconds[t] = self.seconds.get(t, 0.0) + (run.end - run.start)
        self.output_bytes[t] = self.output_bytes.get(t, 0) + run.output_bytes()
        if self.trace:
            self.events.append(trace_event(run, self._origin, self._pid))

    def __enter__(self) -> "Profiler":
        ACTIVE.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self in ACTIVE:
            ACTIVE.remove(self)

    def rows(self) -> list[tuple[str, int, float, float, float, int]]:
        """``(type, calls, total s, mean s, share of all op time, output bytes)``,
        slowest first."""
        total = sum(self.seconds.values()) or 1.0
        rows = [(t, self.calls[t], s, s / self.calls[t], s / total, self.output_bytes[t])
                for t, s in self.seconds.items()]
        return sorted(rows, key=lambda r: (-r[2], r[0]))

    def table(self) -> str:
        """The per-op-type table ``caffe2lite run --profile`` prints."""
        rows = self.rows()
        width = max([len("op type")] + [len(r[0]) for r in rows])
        head = (f"{'op type':<{width}}  {'calls':>7}  {'total ms':>10}  {'mean ms':>9}  "
                f"{'share':>6}  {'output bytes':>12}")
        lines = [head, "-" * len(head)]
        for t, calls, total, mean, share, nbytes in rows:
            lines.append(f"{t:<{width}}  {calls:>7}  {total * 1e3:>10.3f}  "
                         f"{mean * 1e3:>9.4f}  {share * 100:>5.1f}%  {nbytes:>12}")
        all_s = sum(self.seconds.values())
        lines.append(f"{'total':<{width}}  {sum(self.calls.values()):>7}  "
                     f"{all_s * 1e3:>10.3f}")
        return "\n".join(lines)

    def trace_json(self) -> dict[str, Any]:
        """The Chrome trace-event document: ``{"traceEvents": [...], ...}``."""
        return {"traceEvents": list(self.events), "displayTimeUnit": "ms"}

    def write_trace(self, path: str | os.PathLike) -> None:
        """Write the trace as JSON (open it in https://ui.perfetto.dev)."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.trace_json(), f)


def trace_event(run: OpRun, origin: float, pid: int) -> dict[str, Any]:
    """One complete ("X") trace event for an op run, times in microseconds."""
    return {
        "name": run.type,
        "cat": "op",
        "ph": "X",
        "ts": round((run.start - origin) * 1e6, 3),
        "dur": round((run.end - run.start) * 1e6, 3),
        "pid": pid,
        "tid": 0,
        "args": {
            "net": run.net,
            "op_index": run.index,
            "op_name": run.op.name,
            "iteration": run.iteration,
            "inputs": {n: value_text(v) for n, v in zip(run.input_names, run.inputs)},
            "outputs": {n: value_text(v) for n, v in zip(run.output_names, run.outputs)},
        },
    }
