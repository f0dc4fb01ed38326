"""Section: the rowwise-quantised lookups against the float SparseLengthsSum.

The float32 table of the segments section (100000 x 64 by default, 4096 segments of
mean length 40, int64 indices), quantised once to the fused 8-bit, 4-bit and 2-bit
formats. Each lookup is timed on the same indices and lengths as the float
SparseLengthsSum, its yardstick: the target is that a quantised lookup costs no more
per looked-up row than the float one (ratio float / quantised >= 1). The kernels
are called directly (the executor's overhead is the dispatch section's business).
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
from bench.segments import make_inputs

TARGET = Target(1.0)
CONVERSIONS = {
    8: "FloatToFused8BitRowwiseQuantized",
    4: "FloatToFused4BitRowwiseQuantized",
    2: "FloatToFused2BitRowwiseQuantized",
}
# (op type, bit rate, weighted)
LOOKUPS = [
    ("SparseLengthsSumFused8BitRowwise", 8, False),
    ("SparseLengthsWeightedSumFused8BitRowwise", 8, True),
    ("SparseLengthsMeanFused8BitRowwise", 8, False),
    ("SparseLengthsSumFused4BitRowwise", 4, False),
    ("SparseLengthsWeightedSumFused4BitRowwise", 4, True),
    ("SparseLengthsSumFused2BitRowwise", 2, False),
]


def kernel_call(
    op_type: str, inputs: list[str], blobs: dict[str, Any]
) -> Callable[[], Any]:
    """The registered kernel of ``op_type`` bound to ``blobs`` (named as ``inputs``)."""
    kernel, kwargs = bound_kernel(operator_def(op_type, inputs, ["OUTPUT"]))
    args = [blobs[name] for name in inputs]
    return lambda: kernel(*args, **kwargs)


DEQUANTIZE = {
    8: "Fused8BitRowwiseQuantizedToFloat",
    4: "Fused4BitRowwiseQuantizedToFloat",
    2: "Fused2BitRowwiseQuantizedToFloat",
}


def check_agrees(op_type: str, bits: int, inputs: list[str], blobs: dict) -> str:
    """'' when the lookup equals the float op run on the de-quantised table."""
    (table,) = kernel_call(DEQUANTIZE[bits], [f"Q{bits}"], blobs)()
    float_type = op_type.replace(f"Fused{bits}BitRowwise", "")
    got = kernel_call(op_type, inputs, blobs)()[0]
    want = kernel_call(float_type, ["F"] + inputs[1:], {**blobs, "F": table})()[0]
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-3):
        return "output differs from the float op on the de-quantised table"
    return ""


def run(config: Config) -> list[Row]:
    """One row per lookup: its kernel time against the float SparseLengthsSum's."""
    needed = ["SparseLengthsSum", "SparseLengthsWeightedSum"] + list(
        CONVERSIONS.values()
    )
    why = unavailable(*needed)
    if why:
        return [missing("quantized", "fused rowwise lookups", why)]
    blobs: dict[str, Any] = make_inputs(config)
    for bits, op_type in CONVERSIONS.items():
        (blobs[f"Q{bits}"],) = kernel_call(op_type, ["TABLE"], blobs)()
    shape = f"{config.table_rows}x{config.table_dim} {config.segments} segs"
    floats = {
        False: kernel_call("SparseLengthsSum", ["TABLE", "INDICES", "LENGTHS"], blobs),
        True: kernel_call(
            "SparseLengthsWeightedSum",
            ["TABLE", "WEIGHTS", "INDICES", "LENGTHS"],
            blobs,
        ),
    }
    rows: list[Row] = []
    for op_type, bits, weighted in LOOKUPS:
        why = unavailable(op_type)
        if why:
            rows.append(missing("quantized", op_type, why))
            continue
        inputs = (
            [f"Q{bits}"] + (["WEIGHTS"] if weighted else []) + ["INDICES", "LENGTHS"]
        )
        note = check_agrees(op_type, bits, inputs, blobs)
        t = measure(
            {"q": kernel_call(op_type, inputs, blobs), "f": floats[weighted]}, config
        )
        yardstick = "SparseLengthsWeightedSum" if weighted else "SparseLengthsSum"
        rows.append(
            compare(
                "quantized",
                f"{op_type} {shape} kernel",
                t["q"] * 1e3,
                "ms",
                f"float {yardstick}",
                t["f"] * 1e3,
                TARGET,
                note=note,
            )
        )
    return rows
