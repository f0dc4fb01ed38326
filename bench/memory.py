"""Section 4: peak extra memory of each op, as a multiple of its output bytes.

tracemalloc sees numpy's buffers; the peak is taken over one kernel call, above what
was live before it, and includes the outputs themselves (so 1.0 is the floor). Relu
is measured on ``memory_relu`` floats: on 4 floats the array headers would dominate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bench import dropout, segments
from bench.common import (
    Config,
    Row,
    Target,
    bound_kernel,
    compare,
    missing,
    operator_def,
    peak_extra_bytes,
    unavailable,
)

MEMORY_TARGET = Target(3.0, at_least=False)


def cases(config: Config) -> list[tuple[str, str, Callable[[], Callable[[], Any]]]]:
    """``(op type, case label, factory of a zero-argument kernel call)``."""
    out: list[tuple[str, str, Callable[[], Callable[[], Any]]]] = []
    n = config.memory_ids
    for op_type in (dropout.SEGMENT_OP, dropout.ITEMWISE_OP):
        for ratio in config.dropout_ratios:

            def make(op_type: str = op_type, ratio: float = ratio) -> Callable[[], Any]:
                x, lengths = dropout.make_ids(n, config.mean_length)
                return dropout.kernel_runner(op_type, x, lengths, ratio)

            out.append((op_type, f"{op_type} n={n:.0e} ratio={ratio}", make))
    blobs: dict[str, np.ndarray] = {}
    for op_type in segments.OPS:

        def make_segment(op_type: str = op_type) -> Callable[[], Any]:
            if not blobs:
                blobs.update(segments.make_inputs(config))
            return segments.kernel_runner(op_type, blobs)

        label = (
            f"{op_type} {config.table_rows}x{config.table_dim} {config.segments} segs"
        )
        out.append((op_type, label, make_segment))

    def make_relu() -> Callable[[], Any]:
        kernel, kwargs = bound_kernel(operator_def("Relu", ["X"], ["Y"]))
        x = np.random.default_rng(0).standard_normal(
            config.memory_relu, dtype=np.float32
        )
        return lambda: kernel(x, **kwargs)

    out.append(("Relu", f"Relu {config.memory_relu} floats", make_relu))
    return out


def run(config: Config) -> list[Row]:
    """Section 4 rows."""
    rows: list[Row] = []
    for op_type, label, make in cases(config):
        why = unavailable(op_type)
        if why:
            rows.append(missing("memory", label, why))
            continue
        call = make()
        call()
        peak, result = peak_extra_bytes(call)
        out_bytes = sum(r.nbytes for r in result if isinstance(r, np.ndarray))
        rows.append(
            compare(
                "memory",
                f"peak extra of {label}",
                peak / 2**20,
                "MiB",
                "output size",
                out_bytes / 2**20,
                MEMORY_TARGET,
                inverse=True,
            )
        )
        del call, result
    return rows
