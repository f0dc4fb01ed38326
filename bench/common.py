"""What every section of the benchmark shares: rows, targets, timing and memory.

Timing is side by side: the candidate and its yardsticks are warmed up, each gets an
inner loop long enough to be timed reliably, then their samples are interleaved
(round-robin, with the order rotated every round) so that a noisy neighbour slows
them all alike. The figure kept is the minimum per-call time over the samples.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from caffe2lite.schema import registry
from caffe2lite.runtime.net import compile_op
from caffe2lite.proto import caffe2_pb2


@dataclass(frozen=True)
class Config:
    """Sizes and repeat counts of one run of the suite."""

    dropout_sizes: tuple[int, ...] = (10**4, 10**5, 10**6, 10**7)
    dropout_ratios: tuple[float, ...] = (0.1, 0.5)
    mean_length: int = 50
    loop_max_ids: int = 10**5
    table_rows: int = 100_000
    table_dim: int = 64
    segments: int = 4096
    segment_mean: int = 40
    dispatch_ops: int = 1000
    memory_ids: int = 10**6
    memory_relu: int = 10**6
    training_steps: int = 20
    repeats: int = 7
    min_sample: float = 0.02
    onnx: bool = True
    # section "sparse": the CTR step, embedding lookups, the dense chain, sparse updates
    sparse_rows: int = 100_000
    sparse_dim: int = 16
    sparse_batches: tuple[int, ...] = (256, 4096)
    sparse_mean_length: int = 20
    lookup_bags: tuple[int, ...] = (4096, 32)
    lookup_mean_length: int = 40
    dense_batch: int = 256
    update_small_bytes: int = 1 << 20
    update_big_bytes: int = 1 << 30
    torch: bool = True


FULL = Config()
QUICK = Config(
    dropout_sizes=(10**4, 10**5, 10**6), repeats=3, min_sample=0.005, training_steps=5
)
TINY = Config(
    dropout_sizes=(2000,),
    loop_max_ids=2000,
    table_rows=500,
    table_dim=8,
    segments=32,
    segment_mean=4,
    dispatch_ops=20,
    memory_ids=2000,
    memory_relu=1000,
    training_steps=1,
    repeats=1,
    min_sample=0.0,
    onnx=False,
    sparse_rows=300,
    sparse_dim=4,
    sparse_batches=(8,),
    sparse_mean_length=3,
    lookup_bags=(8,),
    lookup_mean_length=3,
    dense_batch=8,
    update_small_bytes=1 << 12,
    update_big_bytes=1 << 16,
)


@dataclass(frozen=True)
class Target:
    """``ratio >= value`` (``at_least``) or ``ratio <= value``."""

    value: float
    at_least: bool = True

    def met(self, ratio: float) -> bool:
        """Whether ``ratio`` meets the target."""
        return ratio >= self.value if self.at_least else ratio <= self.value

    def __str__(self) -> str:
        return f"{'>=' if self.at_least else '<='} {self.value:g}"


@dataclass
class Row:
    """One line of the table: a measured value against one yardstick."""

    section: str
    case: str
    value: float | None
    unit: str
    yardstick: str = ""
    yardstick_value: float | None = None
    ratio: float | None = None
    target: str = ""
    status: str = "info"
    note: str = ""


def compare(
    section: str,
    case: str,
    value: float,
    unit: str,
    yardstick: str,
    yardstick_value: float,
    target: Target | None = None,
    *,
    inverse: bool = False,
    note: str = "",
) -> Row:
    """A row whose ratio is ``yardstick / value`` (higher is better), or
    ``value / yardstick`` when ``inverse`` (for memory: lower is better)."""
    if inverse:
        ratio = value / yardstick_value if yardstick_value else math.inf
    else:
        ratio = yardstick_value / value if value else math.inf
    status = "info" if target is None else ("pass" if target.met(ratio) else "miss")
    return Row(
        section,
        case,
        value,
        unit,
        yardstick,
        yardstick_value,
        ratio,
        "" if target is None else str(target),
        status,
        note,
    )


def missing(section: str, case: str, note: str) -> Row:
    """A row for something that could not be measured, and why."""
    return Row(section, case, None, "", status="n/a", note=note)


def _sample(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - start


def measure(
    candidates: dict[str, Callable[[], Any]], config: Config
) -> dict[str, float]:
    """Per-call seconds of each callable: warmed up, calibrated, interleaved, min."""
    numbers: dict[str, int] = {}
    for name, fn in candidates.items():
        fn()
        number = 1
        while True:
            took = _sample(fn, number)
            if took >= config.min_sample or number >= 10**6:
                break
            number = max(number * 2, int(number * config.min_sample / max(took, 1e-7)))
        numbers[name] = number
    names = list(candidates)
    best = dict.fromkeys(names, math.inf)
    enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(config.repeats):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                per_call = _sample(candidates[name], numbers[name]) / numbers[name]
                best[name] = min(best[name], per_call)
            gc.collect()
    finally:
        if enabled:
            gc.enable()
    return best


def peak_extra_bytes(fn: Callable[[], Any]) -> tuple[int, Any]:
    """Peak memory allocated while ``fn`` runs, above what was live before (tracemalloc
    sees numpy's buffers); returns it with ``fn``'s result."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - before, result


def operator_def(
    op_type: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    seed: int | None = None,
    **args: Any,
) -> caffe2_pb2.OperatorDef:
    """An OperatorDef, built the way a Caffe2 user would (``core.CreateOperator``)."""
    from caffe2lite import core

    option = (
        None if seed is None else core.DeviceOption(caffe2_pb2.CPU, random_seed=seed)
    )
    return core.CreateOperator(
        op_type, list(inputs), list(outputs), device_option=option, **args
    )


def bound_kernel(
    op: caffe2_pb2.OperatorDef,
) -> tuple[Callable[..., tuple], dict[str, Any]]:
    """The registered kernel of ``op`` and its parsed keyword arguments (what the
    executor passes), for timing the kernel call alone."""
    step, problems = compile_op(op)
    if problems or step is None:
        raise problems[0]
    return step.kernel, step.kwargs


def unavailable(*op_types: str) -> str:
    """Why the ops cannot be benchmarked ('' when every one is registered)."""
    absent = [t for t in op_types if registry.find(t) is None]
    return f"not registered yet: {', '.join(absent)}" if absent else ""


def rows_as_dicts(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows as plain dicts (for JSON)."""
    return [asdict(r) for r in rows]
