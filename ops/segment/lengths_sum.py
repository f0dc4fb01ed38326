"""LengthsSum and its gradient operators (Caffe2 segment_reduction_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)

from ._segment_checks import (
    check_float_data,
    check_lengths_cover_data,
    check_segment_grads,
    check_segment_lengths,
)
from ._segment_kernels import (
    expand_segment_grads,
    expanded_shape,
    rows_view,
    segment_reduce,
    segments_shape,
)


@register_cpu_operator(
    "LengthsSum",
    inputs=["DATA", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=segments_shape,
    example=Example(
        {
            "DATA": np.array([2, 4, 3, 1, 2, 10], np.float32),
            "LENGTHS": np.array([2, 3, 1], np.int32),
        },
        {"OUTPUT": np.array([6, 6, 10], np.float32)},
    ),
    doc="""Sum consecutive slices of DATA, one segment per LENGTHS entry.

Segment i covers the next LENGTHS[i] rows of DATA; sum(LENGTHS) must equal
DATA.shape[0]. OUTPUT has shape (len(LENGTHS),) + DATA.shape[1:] and DATA's type;
an empty segment gives 0. LENGTHS is int32.

Example: DATA=[2, 4, 3, 1, 2, 10], LENGTHS=[2, 3, 1] -> OUTPUT=[6, 6, 10]""",
)
def lengths_sum(data, lengths):
    """Per-segment sum of consecutive rows of DATA."""
    check_segment_lengths(lengths)
    check_float_data(data)
    check_lengths_cover_data(lengths, data.shape[0])
    out = segment_reduce(rows_view(data), lengths)
    return (out.reshape((lengths.shape[0],) + data.shape[1:]),)


@register_gradient("LengthsSum")
def lengths_sum_gradient(g):
    """LengthsIndicesInGradientSumGradient([dOUT, LENGTHS, DATA]) -> DATA_grad."""
    return [
        g.op_def(
            "LengthsIndicesInGradientSumGradient", [g.GO(0), g.I(1), g.I(0)], [g.GI(0)]
        )
    ]


def sum_gradient(segment_grads, lengths):
    """Row j of the result is the output gradient of the segment holding row j."""
    check_segment_lengths(lengths)
    check_segment_grads(segment_grads, lengths)
    return (expand_segment_grads(segment_grads, lengths),)


_SUM_GRADIENT_DOC = """Gradient of {forward}: each of the sum(LENGTHS) rows gets the
output gradient of its segment, copied. {extra}

Example: SEGMENT_GRADS=[[1, 2], [3, 4]], LENGTHS=[2, 1] -> [[1, 2], [1, 2], [3, 4]]"""


@register_cpu_operator(
    "LengthsIndicesInGradientSumGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS", "INDICES"],
    outputs=["DATA_GRAD"],
    shape=lambda grads, lengths, indices: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[1, 2], [3, 4]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "INDICES": np.array([[0, 0], [0, 0], [0, 0]], np.float32),
        },
        {"DATA_GRAD": np.array([[1, 2], [1, 2], [3, 4]], np.float32)},
    ),
    doc=_SUM_GRADIENT_DOC.format(
        forward="LengthsSum", extra="The third input (the forward DATA) is not read."
    ),
)
def lengths_indices_in_gradient_sum_gradient(segment_grads, lengths, indices):
    """LengthsSum's gradient: SEGMENT_GRADS repeated LENGTHS times."""
    return sum_gradient(segment_grads, lengths)


@register_cpu_operator(
    "LengthsSumGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS"],
    outputs=["DATA_GRAD"],
    shape=lambda grads, lengths: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[1, 2], [3, 4]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
        },
        {"DATA_GRAD": np.array([[1, 2], [1, 2], [3, 4]], np.float32)},
    ),
    doc=_SUM_GRADIENT_DOC.format(
        forward="LengthsSum", extra="The 2-input form kept for older nets."
    ),
)
def lengths_sum_gradient_op(segment_grads, lengths):
    """The legacy 2-input gradient of LengthsSum."""
    return sum_gradient(segment_grads, lengths)


gradient_not_implemented_yet("LengthsIndicesInGradientSumGradient")
gradient_not_implemented_yet("LengthsSumGradient")
