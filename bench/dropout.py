"""Section 1: SparseDropoutWithReplacement and SparseItemwiseDropoutWithReplacement.

Inputs: ``n`` int64 ids split into segments whose lengths are drawn uniformly from
0..2*mean (the last one trimmed so the total is exactly ``n``). Each op is timed as a
user runs it in a hot loop (a created net, ``RunNet``) and as its kernel alone, next
to three yardsticks: ``numpy.copy`` of X (the floor: the op reads X and writes Y), a
straightforward numpy implementation, and a plain Python loop (small sizes only).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import (
    Config,
    Row,
    Target,
    bound_kernel,
    compare,
    measure,
    missing,
    operator_def,
    unavailable,
)

SEGMENT_OP = "SparseDropoutWithReplacement"
ITEMWISE_OP = "SparseItemwiseDropoutWithReplacement"
REPLACEMENT = -1
SEED = 1234


def make_ids(n: int, mean: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``n`` int64 ids and int32 lengths drawn from 0..2*mean."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(
        0, 2 * mean + 1, size=n * 11 // (10 * mean) + 16, dtype=np.int64
    )
    ends = np.cumsum(lengths)
    count = int(np.searchsorted(ends, n)) + 1
    lengths = lengths[:count]
    lengths[-1] -= int(ends[count - 1]) - n
    ids = rng.integers(0, 2**40, size=n, dtype=np.int64)
    return ids, lengths.astype(np.int32)


def numpy_segment_dropout(
    x: np.ndarray,
    lengths: np.ndarray,
    ratio: float,
    replacement: int,
    rng: np.random.Generator,
) -> tuple:
    """What a numpy user writes: a keep mask per segment, spread with ``np.repeat``."""
    keep = rng.random(lengths.size) < 1.0 - ratio
    out_lengths = np.where(keep, lengths, 1).astype(np.int32)
    y = np.empty(int(out_lengths.sum()), dtype=x.dtype)
    kept_slots = np.repeat(keep, out_lengths)
    y[kept_slots] = x[np.repeat(keep, lengths)]
    y[~kept_slots] = replacement
    return y, out_lengths


def numpy_itemwise_dropout(
    x: np.ndarray,
    lengths: np.ndarray,
    ratio: float,
    replacement: int,
    rng: np.random.Generator,
) -> tuple:
    """What a numpy user writes: one draw per element, then ``np.where``."""
    keep = rng.random(x.size) < 1.0 - ratio
    return np.where(keep, x, replacement), lengths.copy()


def loop_segment_dropout(
    x: np.ndarray,
    lengths: np.ndarray,
    ratio: float,
    replacement: int,
    rng: random.Random,
) -> tuple:
    """A plain Python loop over segments (list slices for the kept ones)."""
    xs, out, out_lengths, pos = x.tolist(), [], [], 0
    for n in lengths.tolist():
        if rng.random() < 1.0 - ratio:
            out.extend(xs[pos : pos + n])
            out_lengths.append(n)
        else:
            out.append(replacement)
            out_lengths.append(1)
        pos += n
    return np.array(out, dtype=np.int64), np.array(out_lengths, dtype=np.int32)


def loop_itemwise_dropout(
    x: np.ndarray,
    lengths: np.ndarray,
    ratio: float,
    replacement: int,
    rng: random.Random,
) -> tuple:
    """A plain Python loop over elements."""
    keep = 1.0 - ratio
    out = [v if rng.random() < keep else replacement for v in x.tolist()]
    return np.array(out, dtype=np.int64), lengths.copy()


USER_IMPLS = {
    SEGMENT_OP: (numpy_segment_dropout, loop_segment_dropout),
    ITEMWISE_OP: (numpy_itemwise_dropout, loop_itemwise_dropout),
}


def copy_target(n: int) -> Target | None:
    """Within 2x of numpy.copy from 10^6 ids up, within 4x at 10^4, none between."""
    if n >= 10**6:
        return Target(0.5)
    if n <= 10**4:
        return Target(0.25)
    return None


def loop_target(n: int) -> Target | None:
    """At least 20x faster than the Python loop at 10^5 ids."""
    return Target(20.0) if n == 10**5 else None


def net_runner(
    op_type: str, x: np.ndarray, lengths: np.ndarray, ratio: float, name: str
) -> Callable[[], Any]:
    """A workspace with X and Lengths fed and a created one-op net: ``run_net``."""
    from caffe2lite.proto import caffe2_pb2
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("Lengths", lengths)
    net = caffe2_pb2.NetDef(name=name)
    net.op.append(
        operator_def(
            op_type,
            ["X", "Lengths"],
            ["Y", "OutputLengths"],
            seed=SEED,
            ratio=ratio,
            replacement_value=REPLACEMENT,
        )
    )
    ws.create_net(net)
    return lambda: ws.run_net(name)


def kernel_runner(
    op_type: str, x: np.ndarray, lengths: np.ndarray, ratio: float
) -> Callable[[], Any]:
    """The registered kernel called directly with its parsed arguments."""
    kernel, kwargs = bound_kernel(
        operator_def(
            op_type,
            ["X", "Lengths"],
            ["Y", "OutputLengths"],
            seed=SEED,
            ratio=ratio,
            replacement_value=REPLACEMENT,
        )
    )
    return lambda: kernel(x, lengths, **kwargs)


def bench_case(op_type: str, n: int, ratio: float, config: Config) -> list[Row]:
    """Every row of one (op, size, ratio) case."""
    x, lengths = make_ids(n, config.mean_length)
    numpy_impl, loop_impl = USER_IMPLS[op_type]
    np_rng, py_rng = np.random.default_rng(SEED), random.Random(SEED)
    candidates = {
        "net": net_runner(op_type, x, lengths, ratio, f"bench_{op_type}_{n}"),
        "kernel": kernel_runner(op_type, x, lengths, ratio),
        "copy": lambda: np.copy(x),
        "numpy": lambda: numpy_impl(x, lengths, ratio, REPLACEMENT, np_rng),
    }
    if n <= config.loop_max_ids:
        candidates["loop"] = lambda: loop_impl(x, lengths, ratio, REPLACEMENT, py_rng)
    t = {k: v * 1e9 / n for k, v in measure(candidates, config).items()}
    case = f"{op_type} n={n:.0e} ratio={ratio}"
    rows = []
    for path, label in (("net", "RunNet"), ("kernel", "kernel")):
        rows.append(
            compare(
                "dropout",
                f"{case} {label}",
                t[path],
                "ns/id",
                "numpy.copy",
                t["copy"],
                copy_target(n),
            )
        )
        rows.append(
            compare(
                "dropout", f"{case} {label}", t[path], "ns/id", "numpy impl", t["numpy"]
            )
        )
        if "loop" in t:
            rows.append(
                compare(
                    "dropout",
                    f"{case} {label}",
                    t[path],
                    "ns/id",
                    "Python loop",
                    t["loop"],
                    loop_target(n),
                )
            )
    return rows


def run(config: Config) -> list[Row]:
    """Section 1 rows for every op, size and ratio of ``config``."""
    rows: list[Row] = []
    for op_type in (SEGMENT_OP, ITEMWISE_OP):
        why = unavailable(op_type)
        if why:
            rows.append(missing("dropout", op_type, why))
            continue
        for n in config.dropout_sizes:
            for ratio in config.dropout_ratios:
                rows.extend(bench_case(op_type, n, ratio, config))
    return rows
