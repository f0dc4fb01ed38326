"""Lookups in pruned fused rowwise-quantized tables (Caffe2
lengths_reducer_fused_nbit_rowwise_ops): SparseLengths{Sum,WeightedSum,Mean}{8,4,2}
BitRowwiseSparse, and SparseLengthsSumSparseLookup, which maps the ids of a lookup
to the pruned table's rows.

A pruned table keeps only some rows of the original one. COMPRESSED_INDICES_MAPPING
(int32, one entry per row of the original table) gives each original id its row in
DATA, or -1 for a pruned row; a pruned id adds nothing to its segment (it still
counts in a Mean's length, as in Caffe2). The mapping [0] (one element, 0) means "not
pruned": INDICES then index DATA directly.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype, check_lengths, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type
from ..segment._segment_kernels import scale_by_inverse_lengths
from ._rowwise import check_lookup_bounds, check_lookup_weights, fused_lookup, lookup_shape
from .sparse_lengths_fused_nbit_rowwise import _DATA as _NBIT_DATA

MAPPING = "COMPRESSED_INDICES_MAPPING"

# The doc examples: two kept rows per bit rate, de-quantising to r0 and r1 (8-bit:
# codes [0, 1] scale 1 bias -1, and codes [4, 6] scale 1 bias 0, as float32 bytes).
_DATA = {
    8: np.array([[0, 1, 0, 0, 128, 63, 0, 0, 128, 191],
                 [4, 6, 0, 0, 128, 63, 0, 0, 0, 0]], np.uint8),
    **_NBIT_DATA,
}
_ROWS = {
    8: ([-1, 0], [4, 6]),
    4: ([-1, 0], [4, 6]),
    2: ([-1, 0, -0.5, 0.5], [3, 1, 0, 2]),
}
# original ids 0, 1, 2: id 0 is row 1, id 1 was pruned, id 2 is row 0
_MAPPING = np.array([1, -1, 0], np.int32)
_INDICES = np.array([0, 1, 2], np.int64)
_LENGTHS = np.array([2, 0, 1], np.int32)
_WEIGHTS = np.array([1.0, 2.0, 0.5], np.float32)

_WHAT = {
    "Sum": "SparseLengthsSum",
    "WeightedSum": "SparseLengthsWeightedSum (each row times its WEIGHTS entry)",
    "Mean": "SparseLengthsMean (the sum times 1 / LENGTHS[i], pruned ids counted)",
}

_DOC = """{what} on a pruned {bits}-bit fused rowwise table: DATA holds
the kept rows in FloatToFused{bits}BitRowwiseQuantized's format ({tail}-byte
{sb} scale and bias after each row's codes), INDICES (int32 or int64) are ids of the
original table, COMPRESSED_INDICES_MAPPING (int32, one entry per original row) maps
each id to its row of DATA, -1 for a pruned row, which adds nothing. The mapping [0]
means the table is not pruned: INDICES then index DATA directly. OUTPUT is float32,
(len(LENGTHS), {block}); the values equal those of SparseLengths{reducer}Fused{bits}BitRowwise
on the unpruned table with the pruned rows set to 0.

An id outside the mapping, or a mapping entry that is neither -1 nor a row of DATA,
is an error.

Example: DATA rows de-quantise to {r0} and {r1}; COMPRESSED_INDICES_MAPPING=[1, -1, 0]
(id 1 pruned); INDICES=[0, 1, 2], LENGTHS=[2, 0, 1]{extra} -> OUTPUT={out}"""


def _check_mapping(mapping: np.ndarray) -> None:
    check_dtype(mapping, MAPPING, np.int32)
    check_ndim(mapping, MAPPING, 1, "COMPRESSED_INDICES_MAPPING must be a vector")


def compress(indices: np.ndarray, lengths: np.ndarray, mapping: np.ndarray,
             weights: np.ndarray | None, rows: int | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The lookup on the pruned table: (DATA rows, the segments' kept counts, the kept
    weights), pruned ids dropped; ``indices`` checked against the mapping first
    (Caffe2's bounds message) and, with ``rows``, the mapped rows against DATA."""
    check_lookup_bounds(indices, lengths, mapping.shape[0])
    mapped = mapping[indices]
    if rows is not None:
        bad = (mapped < -1) | (mapped >= rows)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise EnforceError(
                f"COMPRESSED_INDICES_MAPPING maps id {int(indices[pos])} (index {pos}) to "
                f"row {int(mapped[pos])}, which DATA does not have ({rows} rows)",
                blob=MAPPING, expected=f"-1 or a row in [0, {rows})",
                found=int(mapped[pos]))
    keep = mapped != -1
    segment = np.repeat(np.arange(lengths.shape[0]), lengths)
    kept = np.bincount(segment[keep], minlength=lengths.shape[0]).astype(np.int32)
    return (mapped[keep].astype(indices.dtype), kept,
            None if weights is None else weights[keep])


def pruned_lookup(data: np.ndarray, indices: np.ndarray, lengths: np.ndarray,
                  mapping: np.ndarray, weights: np.ndarray | None, *, bits: int,
                  mean: bool = False) -> np.ndarray:
    """SparseLengths{Sum,WeightedSum,Mean}{bits}BitRowwiseSparse."""
    _check_mapping(mapping)
    if mapping.shape[0] == 1 and mapping[0] == 0:  # not pruned
        return fused_lookup(data, indices, lengths, weights, bits=bits, mean=mean)
    check_index_type(indices)
    check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
    check_ndim(lengths, "LENGTHS", 1, "LENGTHS must be a vector")
    if weights is not None:
        check_lookup_weights(weights, indices)
    check_dtype(data, "DATA", np.uint8)
    check_ndim(data, "DATA", 2, "DATA must be a matrix of fused rows")
    check_lengths(lengths)
    kept, kept_lengths, kept_weights = compress(indices, lengths, mapping, weights,
                                                data.shape[0])
    out = fused_lookup(data, kept, kept_lengths, kept_weights, bits=bits)
    if mean:
        scale_by_inverse_lengths(out, lengths)
    return out


def _register(bits: int, reducer: str) -> None:
    op_type = f"SparseLengths{reducer}{bits}BitRowwiseSparse"
    weighted, mean = reducer == "WeightedSum", reducer == "Mean"
    inputs = ["DATA"] + (["WEIGHTS"] if weighted else []) + ["INDICES", "LENGTHS", MAPPING]
    values = {"DATA": _DATA[bits], "WEIGHTS": _WEIGHTS, "INDICES": _INDICES,
              "LENGTHS": _LENGTHS, MAPPING: _MAPPING}
    r0, r1 = (np.array(r, np.float32) for r in _ROWS[bits])
    first = r1 * (0.5 if mean else 1.0)  # segment 0: id 0 (row 1) and pruned id 1
    last = r0 * (0.5 if weighted else 1.0)
    out = np.stack([first, np.zeros_like(r0), last])
    per, tail = 8 // bits, 8 if bits == 8 else 4
    block = "DATA.shape[1] - 8" if bits == 8 else f"(DATA.shape[1] - 4) * {per}"
    schema = {
        "inputs": inputs,
        "outputs": ["output"],
        "shape": lookup_shape(lambda c: (c - tail) * per, f"({{}}-{tail})*{per}",
                              len(inputs) - 1),
        "example": Example({k: values[k] for k in inputs}, {"output": out}),
        "doc": _DOC.format(what=_WHAT[reducer], bits=bits, tail=tail,
                           sb="float32" if bits == 8 else "float16", block=block,
                           reducer=reducer, r0=r0.tolist(), r1=r1.tolist(),
                           extra=", WEIGHTS=[1, 2, 0.5]" if weighted else "",
                           out=out.tolist()),
    }
    if weighted:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, weights, indices, lengths, mapping):
            return (pruned_lookup(data, indices, lengths, mapping, weights, bits=bits),)

    else:

        @register_cpu_operator(op_type, **schema)
        def kernel(data, indices, lengths, mapping):
            return (pruned_lookup(data, indices, lengths, mapping, None, bits=bits,
                                  mean=mean),)

    no_gradient(op_type)


for _bits in (8, 4, 2):
    for _reducer in ("Sum", "WeightedSum", "Mean"):
        _register(_bits, _reducer)


def _lookup_shape(indices: TensorShape, lengths: TensorShape, mapping: TensorShape,
                  weights: TensorShape | None = None, **_: object
                  ) -> tuple[TensorShape, ...]:
    kept = ("kept_ids",)  # how many ids were not pruned: known only when it runs
    out = (TensorShape(kept, indices.dtype), TensorShape(lengths.dims, np.dtype(np.int32)))
    return out + ((TensorShape(kept, np.dtype(np.float32)),) if weights is not None else ())


@register_cpu_operator(
    "SparseLengthsSumSparseLookup",
    inputs=["INDICES", "LENGTHS", MAPPING, "WEIGHTS"],
    outputs=["output_indices", "output_lengths", "output_weights"],
    num_inputs=(3, 4),
    num_outputs=(2, 3),
    shape=_lookup_shape,
    example=Example({"INDICES": _INDICES, "LENGTHS": _LENGTHS, MAPPING: _MAPPING,
                     "WEIGHTS": _WEIGHTS},
                    {"output_indices": np.array([1, 0], np.int64),
                     "output_lengths": np.array([1, 0, 1], np.int32),
                     "output_weights": np.array([1.0, 0.5], np.float32)}),
    doc="""The ids of a lookup mapped to a pruned table's rows: each id of INDICES
(int32 or int64) becomes COMPRESSED_INDICES_MAPPING[id] (int32, -1 for a pruned row),
pruned ids are dropped with their WEIGHTS (float32, optional), and each segment's
length counts what is left. The outputs feed SparseLengthsSum / WeightedSum on the
pruned table; output_indices keeps INDICES' type. An id outside the mapping is an
error.

Example: COMPRESSED_INDICES_MAPPING=[1, -1, 0], INDICES=[0, 1, 2], LENGTHS=[2, 0, 1],
WEIGHTS=[1, 2, 0.5] -> output_indices=[1, 0], output_lengths=[1, 0, 1],
output_weights=[1, 0.5]""",
)
def sparse_lengths_sum_sparse_lookup(indices, lengths, mapping, weights=None, *,
                                     num_outputs=2) -> tuple:
    """Map INDICES through the mapping, dropping pruned ids (and their weights)."""
    check_index_type(indices)
    check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
    check_ndim(lengths, "LENGTHS", 1, "LENGTHS must be a vector")
    check_dtype(mapping, MAPPING, np.int32)
    check_ndim(mapping, MAPPING, 1, "LENGTHS must be a vector")  # (Caffe2's message)
    check_lengths(lengths)
    if weights is not None:
        check_lookup_weights(weights, indices)
    kept, kept_lengths, kept_weights = compress(indices, lengths, mapping, weights)
    out: tuple = (kept, kept_lengths)
    if num_outputs == 3:
        if kept_weights is None:
            raise EnforceError("SparseLengthsSumSparseLookup: output_weights needs WEIGHTS",
                               blob="WEIGHTS", expected="a 4th input", found="none")
        out += (kept_weights,)
    return out


no_gradient("SparseLengthsSumSparseLookup")
