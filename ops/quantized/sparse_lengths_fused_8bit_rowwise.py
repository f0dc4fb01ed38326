"""SparseLengths{Sum,WeightedSum,Mean}Fused8BitRowwise (Caffe2
lengths_reducer_fused_8bit_rowwise_ops): one table row per reducer."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._rowwise import fused_lookup, lookup_shape

# Two fused 8-bit rows: codes [0, 2] with scale 0.5, bias -1 (values [-1, 0]) and
# codes [4, 6] with scale 1, bias 0 (values [4, 6]).
_DATA = np.array(
    [[0, 2, 0, 0, 0, 63, 0, 0, 128, 191], [4, 6, 0, 0, 128, 63, 0, 0, 0, 0]], np.uint8
)
_INDICES = np.array([1, 0, 1], np.int64)
_LENGTHS = np.array([2, 0, 1], np.int32)
_WEIGHTS = np.array([1.0, 2.0, 0.5], np.float32)

_DOC = """{what}, on a fused 8-bit rowwise table
(FloatToFused8BitRowwiseQuantized's format: each row's uint8 codes, then its float32
scale and bias).

DATA is a uint8 matrix with more than 8 columns; INDICES (int32 or int64) picks its
rows, LENGTHS (int32) splits INDICES into segments (sum(LENGTHS) == len(INDICES)).
Each picked row is de-quantised (code * scale + bias) {how}; OUTPUT is float32 of
shape (len(LENGTHS), DATA.shape[1] - 8), 0 for an empty segment. An index outside
DATA's rows is an error.

One pass, without materialising the de-quantised rows: the term (s * code) + b of
each index (s, b its row's scale and bias, times WEIGHTS[j] when weighted) is added
in index order to the segment's zeroed row, as Caffe2's EmbeddingLookup did (which
fused the multiply-add where the processor could: the last bit may differ).

Example: DATA rows de-quantise to [-1, 0] and [4, 6]; INDICES=[1, 0, 1],
LENGTHS=[2, 0, 1]{extra} -> OUTPUT={out}"""

_ROWS = [
    (
        "SparseLengthsSumFused8BitRowwise",
        ["DATA", "INDICES", "LENGTHS"],
        False,
        False,
        "Gather rows by INDICES and sum them per segment (SparseLengthsSum)",
        "and summed",
        "",
        [[3.0, 6.0], [0.0, 0.0], [4.0, 6.0]],
    ),
    (
        "SparseLengthsWeightedSumFused8BitRowwise",
        ["DATA", "WEIGHTS", "INDICES", "LENGTHS"],
        True,
        False,
        (
            "Gather rows by INDICES, scale each by its WEIGHTS entry and sum them per "
            "segment (SparseLengthsWeightedSum)"
        ),
        "times WEIGHTS[j] (a float32 vector, one per index) and summed",
        ", WEIGHTS=[1, 2, 0.5]",
        [[2.0, 6.0], [0.0, 0.0], [2.0, 3.0]],
    ),
    (
        "SparseLengthsMeanFused8BitRowwise",
        ["DATA", "INDICES", "LENGTHS"],
        False,
        True,
        "Gather rows by INDICES and average them per segment (SparseLengthsMean)",
        "and summed, then the sum is multiplied by 1 / length",
        "",
        [[1.5, 3.0], [0.0, 0.0], [4.0, 6.0]],
    ),
]


def _register(op_type, inputs, weighted, mean, what, how, extra, out) -> None:
    values = {"DATA": _DATA, "WEIGHTS": _WEIGHTS, "INDICES": _INDICES}
    values["LENGTHS"] = _LENGTHS
    out = np.array(out, np.float32)
    schema = {
        "inputs": inputs,
        "outputs": ["output"],
        "shape": lookup_shape(lambda c: c - 8, "{}-8", len(inputs)),
        "example": Example({k: values[k] for k in inputs}, {"output": out}),
        "doc": _DOC.format(what=what, how=how, extra=extra, out=out.tolist()),
    }
    if weighted:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, weights, indices, lengths):
            return (fused_lookup(data, indices, lengths, weights, bits=8),)

    else:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, indices, lengths):
            return (fused_lookup(data, indices, lengths, None, bits=8, mean=mean),)

    no_gradient(op_type)


for _row in _ROWS:
    _register(*_row)
