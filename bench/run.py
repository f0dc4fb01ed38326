"""Run the benchmark suite and print one table (``--json PATH`` also writes it).

``python -m bench`` or ``python bench/run.py`` from the repository root;
``--quick`` for smaller sizes and fewer repeats (under a minute),
``--only dropout,dispatch`` for some sections.
"""

from __future__ import annotations

import os

# One thread for every library in the main table (BLAS, OpenMP, numexpr-style
# pools): set before numpy loads. torch and onnxruntime are pinned where used.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench import dispatch, dropout, memory, quantized, segments, training, vision
from bench import dask_scoring, mpi_collectives, sparse_training
from bench.common import FULL, QUICK, Config, Row, rows_as_dicts

SECTIONS: dict[str, Callable[[Config], list[Row]]] = {
    "dropout": dropout.run,
    "segments": segments.run,
    "quantized": quantized.run,
    "dispatch": dispatch.run,
    "memory": memory.run,
    "training": training.run,
    "sparse": sparse_training.run,
    "vision": vision.run,
    "dask": dask_scoring.run,
    "mpi": mpi_collectives.run,
}
COLUMNS = ("section", "case", "measured", "yardstick", "ratio", "target", "result")


def machine() -> dict[str, Any]:
    """Where the figures came from."""
    from caffe2lite.ops import _speedups

    import caffe2lite

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "caffe2lite": caffe2lite.__version__,
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(),
        "dropout_kernels": _speedups.status,
    }


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return f"{text} {unit}".strip()


def cells(row: Row) -> tuple[str, ...]:
    """The printed cells of one row."""
    yardstick = (
        f"{row.yardstick} {_num(row.yardstick_value, row.unit)}"
        if row.yardstick
        else "-"
    )
    result = row.status + (f" ({row.note})" if row.note else "")
    return (
        row.section,
        row.case,
        _num(row.value, row.unit),
        yardstick,
        _num(row.ratio),
        row.target or "-",
        result,
    )


def format_table(rows: Sequence[Row]) -> str:
    """The rows as one aligned text table."""
    lines = [COLUMNS] + [cells(r) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS) - 1)]
    out = []
    for k, line in enumerate(lines):
        out.append(
            "  ".join(c.ljust(w) for c, w in zip(line, widths)) + "  " + line[-1]
        )
        if k == 0:
            out.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return "\n".join(out)


def summary(rows: Sequence[Row]) -> str:
    """How many targets were met and missed."""
    met = sum(r.status == "pass" for r in rows)
    missed = [r for r in rows if r.status == "miss"]
    text = f"targets: {met} met, {len(missed)} missed"
    return text + "".join(f"\n  miss: {r.case} vs {r.yardstick}" for r in missed)


def run_suite(
    config: Config,
    sections: Sequence[str],
    progress: Callable[[str], None] | None = None,
) -> list[Row]:
    """Rows of the given sections, in order."""
    rows: list[Row] = []
    for name in sections:
        start = time.perf_counter()
        rows.extend(SECTIONS[name](config))
        if progress:
            progress(f"{name}: {time.perf_counter() - start:.1f} s")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, fewer repeats"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON")
    parser.add_argument(
        "--only",
        metavar="SECTIONS",
        help=f"comma-separated subset of {','.join(SECTIONS)}",
    )
    args = parser.parse_args(argv)
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; known: {list(SECTIONS)}")
    config = QUICK if args.quick else FULL
    start = time.perf_counter()
    from caffe2lite.ops import _speedups

    print(f"dropout kernels: {_speedups.status}")
    rows = run_suite(config, sections, lambda m: print(m, file=sys.stderr, flush=True))
    print(format_table(rows))
    print(summary(rows))
    mode = "quick" if args.quick else "full"
    print(
        f"({mode} run, {time.perf_counter() - start:.0f} s; "
        "ratio = yardstick time / caffe2lite time, higher is better; "
        "memory ratio = peak / output bytes, lower is better)"
    )
    if args.json:
        report = {
            "machine": machine(),
            "mode": "quick" if args.quick else "full",
            "config": config.__dict__,
            "rows": rows_as_dicts(rows),
        }
        Path(args.json).write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
