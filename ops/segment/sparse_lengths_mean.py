"""SparseLengthsMean and its gradient operators (Caffe2 lengths_reducer_ops)."""

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
from .lengths_mean import mean_gradient


@register_cpu_operator(
    "SparseLengthsMean",
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
        {"OUTPUT": np.array([[3, 4], [0, 0], [5, 6]], np.float32)},
    ),
    doc="""Gather rows of DATA by INDICES and average them per segment (Gather +
LengthsMean fused, in one pass, without materialising the gathered rows).

INDICES (int32 or int64, a vector) picks rows of DATA; LENGTHS (int32) splits INDICES
into segments and sum(LENGTHS) must equal len(INDICES). A segment's rows are added in
index order to a zeroed row, then multiplied by 1.0f / length (computed in OUTPUT's
type, as Caffe2 did); an empty segment gives 0. float16 DATA gives a float32 OUTPUT.
An index outside DATA's rows is an error (Caffe2 read out of bounds).

Example: DATA=[[1, 2], [3, 4], [5, 6]], INDICES=[2, 0, 2], LENGTHS=[2, 0, 1]
-> OUTPUT=[[3, 4], [0, 0], [5, 6]]""",
)
def sparse_lengths_mean(data, indices, lengths):
    """Per-segment mean of DATA[INDICES[j]]."""
    return (sparse_lengths_reduce(data, indices, lengths, mean=True),)


@register_gradient("SparseLengthsMean")
def sparse_lengths_mean_gradient(g):
    """SparseLengthsIndicesInGradientMeanGradient([dOUT, LENGTHS, INDICES]) ->
    DATA_grad_values; DATA's gradient is the slice (INDICES, DATA_grad_values)."""
    ops = [
        g.op_def(
            "SparseLengthsIndicesInGradientMeanGradient",
            [g.GO(0), g.I(2), g.I(1)],
            [g.GI_V(0)],
        )
    ]
    g.SetSparse(0, g.I(1), g.GI_V(0))
    return ops


_DOC = """Gradient of SparseLengthsMean: the values of DATA's sparse gradient, one row
per index, each its segment's output gradient divided by the segment length. {extra}

Example: SEGMENT_GRADS=[[2, 4], [3, 3]], LENGTHS=[2, 1] -> [[1, 2], [1, 2], [3, 3]]"""


@register_cpu_operator(
    "SparseLengthsIndicesInGradientMeanGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS", "INDICES"],
    outputs=["DATA_GRAD_VALUES"],
    shape=lambda grads, lengths, indices: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[2, 4], [3, 3]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "INDICES": np.array([2, 0, 2], np.int64),
        },
        {"DATA_GRAD_VALUES": np.array([[1, 2], [1, 2], [3, 3]], np.float32)},
    ),
    doc=_DOC.format(extra="INDICES is not read on CPU."),
)
def sparse_lengths_indices_in_gradient_mean_gradient(segment_grads, lengths, indices):
    """SparseLengthsMean's gradient values."""
    return tile_mean(segment_grads, lengths)


@register_cpu_operator(
    "SparseLengthsMeanGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS"],
    outputs=["DATA_GRAD_VALUES"],
    shape=lambda grads, lengths: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[2, 4], [3, 3]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
        },
        {"DATA_GRAD_VALUES": np.array([[1, 2], [1, 2], [3, 3]], np.float32)},
    ),
    doc=_DOC.format(extra="The 2-input form kept for older nets."),
)
def sparse_lengths_mean_gradient_op(segment_grads, lengths):
    """The legacy 2-input gradient of SparseLengthsMean."""
    return tile_mean(segment_grads, lengths)


def tile_mean(segment_grads, lengths):
    """Row j = the output gradient of j's segment times (its type)(1.0 / length):
    the compiled one-pass tile when it takes the inputs, else the numpy kernel."""
    fast = native.tile
    if fast is not None:
        out = fast(segment_grads, lengths, None, True)
        if out is not None:
            return (out,)
    return mean_gradient(segment_grads, lengths)


gradient_not_implemented_yet("SparseLengthsIndicesInGradientMeanGradient")
gradient_not_implemented_yet("SparseLengthsMeanGradient")
