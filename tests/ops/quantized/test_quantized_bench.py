"""bench/quantized.py runs on tiny sizes: one row per lookup, timed against the
float op, and every lookup agrees with the float op on the de-quantised table."""

from __future__ import annotations

import sys
from pathlib import Path

import caffe2lite  # noqa: F401  (registers every operator)

ROOT = Path(__file__).resolve().parents[3]  # bench/ lives beside tests/, not installed
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import quantized  # noqa: E402
from bench.common import TINY  # noqa: E402


def test_quantized_section_rows():
    rows = quantized.run(TINY)
    assert [r.case.split()[0] for r in rows] == [t for t, _, _ in quantized.LOOKUPS]
    for row in rows:
        assert row.section == "quantized" and row.status in ("pass", "miss"), row
        assert row.value and row.yardstick_value and row.ratio, row
        assert row.target == ">= 1" and row.note == "", row
