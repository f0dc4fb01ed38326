"""Section 2: LengthsSum, SparseLengthsSum and SparseLengthsWeightedSum.

A float32 table (100000 x 64 by default), 4096 segments with lengths drawn from
0..2*mean (mean 40), int64 indices drawn uniformly over the table's rows. Yardsticks:
the gather alone, ``numpy.take(table, indices, axis=0)``, and ``numpy.add.reduceat``
done right (empty segments give zero rows; reduceat alone would copy the next row).
LengthsSum reduces the already gathered rows, so its gather ratio is for reference.
"""

from __future__ import annotations

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

GATHER_TARGET = Target(1 / 1.5)
OPS = {
    "LengthsSum": ["DATA", "LENGTHS"],
    "SparseLengthsSum": ["DATA", "INDICES", "LENGTHS"],
    "SparseLengthsWeightedSum": ["DATA", "WEIGHTS", "INDICES", "LENGTHS"],
}


def make_inputs(config: Config, seed: int = 0) -> dict[str, np.ndarray]:
    """Blobs of the section: TABLE, GATHERED (table rows in index order), INDICES,
    WEIGHTS and LENGTHS."""
    rng = np.random.default_rng(seed)
    table = rng.standard_normal((config.table_rows, config.table_dim), dtype=np.float32)
    lengths = rng.integers(
        0, 2 * config.segment_mean + 1, size=config.segments, dtype=np.int32
    )
    total = int(lengths.sum())
    indices = rng.integers(0, config.table_rows, size=total, dtype=np.int64)
    weights = rng.random(total, dtype=np.float32)
    return {
        "TABLE": table,
        "GATHERED": np.take(table, indices, axis=0),
        "INDICES": indices,
        "WEIGHTS": weights,
        "LENGTHS": lengths,
    }


def reduceat_sum(rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Segment sums with ``numpy.add.reduceat``, empty segments handled."""
    out = np.zeros((lengths.size,) + rows.shape[1:], dtype=rows.dtype)
    nonempty = lengths > 0
    if nonempty.any():
        starts = np.cumsum(lengths) - lengths
        out[nonempty] = np.add.reduceat(rows, starts[nonempty], axis=0)
    return out


def numpy_versions(blobs: dict[str, np.ndarray]) -> dict[str, Callable[[], Any]]:
    """The reduceat yardstick of each op, on the same blobs."""
    table, idx, w, lens = (blobs[k] for k in ("TABLE", "INDICES", "WEIGHTS", "LENGTHS"))
    return {
        "LengthsSum": lambda: reduceat_sum(blobs["GATHERED"], lens),
        "SparseLengthsSum": lambda: reduceat_sum(np.take(table, idx, axis=0), lens),
        "SparseLengthsWeightedSum": lambda: reduceat_sum(
            np.take(table, idx, axis=0) * w[:, None], lens
        ),
    }


def feeds(op_type: str, blobs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The op's inputs in schema order."""
    names = {"DATA": "GATHERED" if op_type == "LengthsSum" else "TABLE"}
    return [blobs[names.get(name, name)] for name in OPS[op_type]]


def net_runner(op_type: str, blobs: dict[str, np.ndarray]) -> Callable[[], Any]:
    """A created one-op net over fed blobs: ``run_net``."""
    from caffe2lite.proto import caffe2_pb2
    from caffe2lite.workspace import Workspace

    ws = Workspace()
    for name, value in zip(OPS[op_type], feeds(op_type, blobs)):
        ws.feed_blob(name, value)
    net = caffe2_pb2.NetDef(name=f"bench_{op_type}")
    net.op.append(operator_def(op_type, OPS[op_type], ["OUTPUT"]))
    ws.create_net(net)
    return lambda: ws.run_net(net.name)


def kernel_runner(op_type: str, blobs: dict[str, np.ndarray]) -> Callable[[], Any]:
    """The registered kernel called directly."""
    kernel, kwargs = bound_kernel(operator_def(op_type, OPS[op_type], ["OUTPUT"]))
    inputs = feeds(op_type, blobs)
    return lambda: kernel(*inputs, **kwargs)


def check_agrees(op_type: str, blobs: dict[str, np.ndarray]) -> str:
    """'' when the op's output matches the reduceat yardstick, else a note."""
    got = kernel_runner(op_type, blobs)()[0]
    want = numpy_versions(blobs)[op_type]()
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-3):
        return "output differs from the numpy yardstick"
    return ""


def run(config: Config) -> list[Row]:
    """Section 2 rows: each op (RunNet and kernel) against take and reduceat."""
    blobs = make_inputs(config)
    table, idx = blobs["TABLE"], blobs["INDICES"]
    shape = f"{config.table_rows}x{config.table_dim} {config.segments} segs"
    rows: list[Row] = []
    for op_type in OPS:
        why = unavailable(op_type)
        if why:
            rows.append(missing("segments", op_type, why))
            continue
        note = check_agrees(op_type, blobs)
        t = measure(
            {
                "net": net_runner(op_type, blobs),
                "kernel": kernel_runner(op_type, blobs),
                "take": lambda: np.take(table, idx, axis=0),
                "reduceat": numpy_versions(blobs)[op_type],
            },
            config,
        )
        t = {k: v * 1e3 for k, v in t.items()}
        target = None if op_type == "LengthsSum" else GATHER_TARGET
        for path, label in (("net", "RunNet"), ("kernel", "kernel")):
            case = f"{op_type} {shape} {label}"
            rows.append(
                compare(
                    "segments",
                    case,
                    t[path],
                    "ms",
                    "numpy.take",
                    t["take"],
                    target,
                    note=note,
                )
            )
            rows.append(
                compare(
                    "segments",
                    case,
                    t[path],
                    "ms",
                    "add.reduceat",
                    t["reduceat"],
                    note=note,
                )
            )
    return rows
