"""SparseLengths{Sum,WeightedSum,Mean}Fused{4,2}BitRowwise (Caffe2
lengths_reducer_fused_nbit_rowwise_ops): one table row per bit rate and reducer."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import fused_lookup, lookup_shape

# Two fused rows per bit rate. 4-bit: codes [0, 2] (scale 0.5, bias -1: values
# [-1, 0]) and codes [4, 6] (scale 1, bias 0). 2-bit: codes [0, 2, 1, 3] (scale 0.5,
# bias -1: values [-1, 0, -0.5, 0.5]) and codes [3, 1, 0, 2] (scale 1, bias 0).
_DATA = {
    4: np.array([[32, 0, 56, 0, 188], [100, 0, 60, 0, 0]], np.uint8),
    2: np.array([[216, 0, 56, 0, 188], [135, 0, 60, 0, 0]], np.uint8),
}
_VALUES = {4: "[-1, 0] and [4, 6]", 2: "[-1, 0, -0.5, 0.5] and [3, 1, 0, 2]"}
_OUT = {
    (4, "Sum"): [[3, 6], [0, 0], [4, 6]],
    (4, "WeightedSum"): [[2, 6], [0, 0], [2, 3]],
    (4, "Mean"): [[1.5, 3], [0, 0], [4, 6]],
    (2, "Sum"): [[2, 1, -0.5, 2.5], [0, 0, 0, 0], [3, 1, 0, 2]],
    (2, "WeightedSum"): [[1, 1, -1, 3], [0, 0, 0, 0], [1.5, 0.5, 0, 1]],
    (2, "Mean"): [[1, 0.5, -0.25, 1.25], [0, 0, 0, 0], [3, 1, 0, 2]],
}
_INDICES = np.array([1, 0, 1], np.int64)
_LENGTHS = np.array([2, 0, 1], np.int32)
_WEIGHTS = np.array([1.0, 2.0, 0.5], np.float32)

_REDUCERS = {
    "Sum": (
        "Gather rows by INDICES and sum them per segment (SparseLengthsSum)",
        "and summed",
    ),
    "WeightedSum": (
        (
            "Gather rows by INDICES, scale each by its WEIGHTS entry and sum them per "
            "segment (SparseLengthsWeightedSum)"
        ),
        "times WEIGHTS[j] (a float32 vector, one per index) and summed",
    ),
    "Mean": (
        "Gather rows by INDICES and average them per segment (SparseLengthsMean)",
        "and summed, then the sum is multiplied by 1 / length",
    ),
}

_DOC = """{what}, on a fused {bits}-bit rowwise table
(FloatToFused{bits}BitRowwiseQuantized's format: each row's codes, {per} per byte, low
bits first, then its float16 scale and bias).

DATA is a uint8 matrix with more than 4 columns; INDICES (int32 or int64) picks its
rows, LENGTHS (int32) splits INDICES into segments (sum(LENGTHS) == len(INDICES)).
Each picked row is de-quantised (scale * code + bias) {how}; OUTPUT is float32 of
shape (len(LENGTHS), (DATA.shape[1] - 4) * {per}), 0 for an empty segment. An index
outside DATA's rows is an error.

One pass, without materialising the de-quantised rows: the term (s * code) + b of
each index (s, b its row's scale and bias, times WEIGHTS[j] when weighted) is added
in index order to the segment's zeroed row, as Caffe2's EmbeddingLookup did (which
fused the multiply-add where the processor could: the last bit may differ).

Example: DATA rows de-quantise to {values}; INDICES=[1, 0, 1], LENGTHS=[2, 0, 1]{extra}
-> OUTPUT={out}"""


def _register(bits: int, reducer: str) -> None:
    per = 8 // bits
    op_type = f"SparseLengths{reducer}Fused{bits}BitRowwise"
    weighted, mean = reducer == "WeightedSum", reducer == "Mean"
    inputs = ["DATA"] + (["WEIGHTS"] if weighted else []) + ["INDICES", "LENGTHS"]
    values = {"DATA": _DATA[bits], "WEIGHTS": _WEIGHTS, "INDICES": _INDICES}
    values["LENGTHS"] = _LENGTHS
    out = np.array(_OUT[bits, reducer], np.float32)
    what, how = _REDUCERS[reducer]
    schema = {
        "inputs": inputs,
        "outputs": ["output"],
        "shape": lookup_shape(lambda c: (c - 4) * per, f"({{}}-4)*{per}", len(inputs)),
        "example": Example({k: values[k] for k in inputs}, {"output": out}),
        "doc": _DOC.format(
            what=what,
            how=how,
            bits=bits,
            per=per,
            values=_VALUES[bits],
            extra=", WEIGHTS=[1, 2, 0.5]" if weighted else "",
            out=out.tolist(),
        ),
    }
    if weighted:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, weights, indices, lengths):
            return (fused_lookup(data, indices, lengths, weights, bits=bits),)

    else:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, indices, lengths):
            return (fused_lookup(data, indices, lengths, None, bits=bits, mean=mean),)

    no_gradient(op_type)


for _bits in (4, 2):
    for _reducer in ("Sum", "WeightedSum", "Mean"):
        _register(_bits, _reducer)
