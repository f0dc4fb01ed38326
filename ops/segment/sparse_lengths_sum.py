"""SparseLengthsSum and its gradient operators (Caffe2 lengths_reducer_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)

from .. import _embedding_native as native
from ._segment_kernels import (
    expanded_shape,
    segments_shape,
    sparse_lengths_cost,
    sparse_lengths_reduce,
)
from .lengths_sum import sum_gradient


@register_cpu_operator(
    "SparseLengthsSum",
    inputs=["DATA", "INDICES", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=lambda data, indices, lengths: segments_shape(data, lengths),
    cost=sparse_lengths_cost(False),
    example=Example(
        {
            "DATA": np.array([[1, 2], [3, 4], [5, 6]], np.float32),
            "INDICES": np.array([2, 0, 2], np.int64),
            "LENGTHS": np.array([2, 0, 1], np.int32),
        },
        {"OUTPUT": np.array([[6, 8], [0, 0], [5, 6]], np.float32)},
    ),
    doc="""Gather rows of DATA by INDICES and sum them per segment (Gather + LengthsSum
fused, in one pass, without materialising the gathered rows).

INDICES (int32 or int64, a vector) picks rows of DATA; LENGTHS (int32) splits INDICES
into segments and sum(LENGTHS) must equal len(INDICES). OUTPUT has shape
(len(LENGTHS),) + DATA.shape[1:]; an empty segment gives 0. float16 DATA gives a
float32 OUTPUT. Each segment's rows are added in index order to a zeroed row, as
Caffe2's EmbeddingLookup did (one rounding per addition). An index outside DATA's
rows is an error (Caffe2 read out of bounds).

Example: DATA=[[1, 2], [3, 4], [5, 6]], INDICES=[2, 0, 2], LENGTHS=[2, 0, 1]
-> OUTPUT=[[6, 8], [0, 0], [5, 6]]""",
)
def sparse_lengths_sum(data, indices, lengths):
    """Per-segment sum of DATA[INDICES[j]]."""
    return (sparse_lengths_reduce(data, indices, lengths),)


@register_gradient("SparseLengthsSum")
def sparse_lengths_sum_gradient(g):
    """SparseLengthsIndicesInGradientSumGradient([dOUT, LENGTHS, INDICES]) ->
    DATA_grad_values; DATA's gradient is the slice (INDICES, DATA_grad_values)."""
    ops = [
        g.op_def(
            "SparseLengthsIndicesInGradientSumGradient",
            [g.GO(0), g.I(2), g.I(1)],
            [g.GI_V(0)],
        )
    ]
    g.SetSparse(0, g.I(1), g.GI_V(0))
    return ops


_DOC = """Gradient of SparseLengthsSum: the values of DATA's sparse gradient, one row per
index (not deduplicated), each the output gradient of its segment. {extra}

Example: SEGMENT_GRADS=[[1, 2], [3, 4]], LENGTHS=[2, 1] -> [[1, 2], [1, 2], [3, 4]]"""


@register_cpu_operator(
    "SparseLengthsIndicesInGradientSumGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS", "INDICES"],
    outputs=["DATA_GRAD_VALUES"],
    shape=lambda grads, lengths, indices: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[1, 2], [3, 4]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "INDICES": np.array([2, 0, 2], np.int64),
        },
        {"DATA_GRAD_VALUES": np.array([[1, 2], [1, 2], [3, 4]], np.float32)},
    ),
    doc=_DOC.format(extra="INDICES is not read on CPU."),
)
def sparse_lengths_indices_in_gradient_sum_gradient(segment_grads, lengths, indices):
    """SparseLengthsSum's gradient values."""
    return tile_sum(segment_grads, lengths)


@register_cpu_operator(
    "SparseLengthsSumGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS"],
    outputs=["DATA_GRAD_VALUES"],
    shape=lambda grads, lengths: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[1, 2], [3, 4]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
        },
        {"DATA_GRAD_VALUES": np.array([[1, 2], [1, 2], [3, 4]], np.float32)},
    ),
    doc=_DOC.format(
        extra="The 2-input form kept for older nets; it equals LengthsSumGradient."
    ),
)
def sparse_lengths_sum_gradient_op(segment_grads, lengths):
    """The legacy 2-input gradient of SparseLengthsSum."""
    return tile_sum(segment_grads, lengths)


def tile_sum(segment_grads, lengths):
    """Row j = the output gradient of j's segment: the compiled one-pass tile when
    it takes the inputs, else the numpy kernel (which checks and raises)."""
    fast = native.tile
    if fast is not None:
        out = fast(segment_grads, lengths, None, False)
        if out is not None:
            return (out,)
    return sum_gradient(segment_grads, lengths)


gradient_not_implemented_yet("SparseLengthsIndicesInGradientSumGradient")
gradient_not_implemented_yet("SparseLengthsSumGradient")
