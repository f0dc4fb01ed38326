"""SparseLengthsPositionalWeightedSum (Caffe2 lengths_reducer_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype, check_lengths, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ._segment_checks import check_float_data, check_index_type
from ._segment_kernels import sparse_lengths_reduce


def _shape(data, weight, indices, lengths) -> tuple:
    dtype = np.dtype(np.float64) if data.dtype == np.float64 else np.dtype(np.float32)
    if data.dims is None or not data.dims or not lengths.dims:
        return (TensorShape(None, dtype),)
    return (TensorShape((lengths.dims[0],) + tuple(data.dims[1:]), dtype),)


@register_cpu_operator(
    "SparseLengthsPositionalWeightedSum",
    inputs=["DATA", "WEIGHT", "INDICES", "LENGTHS"],
    outputs=["output"],
    shape=_shape,
    example=Example(
        {
            "DATA": np.array([[1, 2], [3, 4], [5, 6]], np.float32),
            "WEIGHT": np.array([1, 10, 100], np.float32),
            "INDICES": np.array([2, 0, 1, 1], np.int64),
            "LENGTHS": np.array([2, 0, 2], np.int32),
        },
        {"output": np.array([[15, 26], [0, 0], [33, 44]], np.float32)},
    ),
    doc="""SparseLengthsWeightedSum whose weights are looked up by position in the
segment: the j-th index of a segment (counting from 0) is scaled by WEIGHT[j]. It is
LengthsRangeFill + Gather + SparseLengthsWeightedSum fused.

DATA is float32 or float16 (float64 too); INDICES (int32 or int64) picks its rows;
LENGTHS (int32) splits INDICES into segments (sum(LENGTHS) == len(INDICES)); WEIGHT
is a vector of OUTPUT's type with at least as many entries as the longest segment
(Caffe2 read past a shorter WEIGHT; here it is an error). OUTPUT has shape
(len(LENGTHS),) + DATA.shape[1:], float32 for float16 DATA, and 0 for an empty
segment; with no indices at all it is all zeros whatever the other inputs.

Example: DATA=[[1, 2], [3, 4], [5, 6]], WEIGHT=[1, 10, 100], INDICES=[2, 0, 1, 1],
LENGTHS=[2, 0, 2] -> output=[[15, 26], [0, 0], [33, 44]]""",
)
def sparse_lengths_positional_weighted_sum(data, weight, indices, lengths):
    """Per-segment sum of WEIGHT[position] * DATA[INDICES[j]]."""
    check_float_data(
        data, message="Unsupported type of tensor: {}", extra=(np.float16,)
    )
    check_index_type(indices)
    out_dtype = np.float64 if data.dtype == np.float64 else np.float32
    if indices.size == 0:
        shape = (lengths.shape[0] if lengths.ndim else 0,) + data.shape[1:]
        return (np.zeros(shape, out_dtype),)
    check_ndim(indices, "INDICES", 1, "INDICES must be a vector")
    check_ndim(lengths, "LENGTHS", 1, "LENGTHS must be a vector")
    check_ndim(weight, "WEIGHT", 1, "WEIGHT must be a vector")
    check_dtype(weight, "WEIGHT", out_dtype)
    check_lengths(lengths)
    longest = int(lengths.max()) if lengths.size else 0
    total = int(lengths.sum(dtype=np.int64))
    if longest > weight.shape[0] and total == indices.shape[0]:
        raise EnforceError(
            f"WEIGHT has {weight.shape[0]} entries but a segment has {longest} indices",
            blob="WEIGHT",
            expected=f"at least {longest} entries",
            found=weight.shape[0],
        )
    if total != indices.shape[0]:
        positions = np.zeros(indices.shape[0], np.int64)  # the sum check raises below
    else:
        starts = np.cumsum(lengths, dtype=np.int64) - lengths
        positions = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    weights = np.take(weight, positions, mode="clip") if weight.size else None
    if weights is None:
        weights = np.zeros(indices.shape[0], out_dtype)
    return (sparse_lengths_reduce(data, indices, lengths, weights=weights),)


gradient_not_implemented_yet("SparseLengthsPositionalWeightedSum")
