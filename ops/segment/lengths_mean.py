"""LengthsMean and its gradient operators (Caffe2 segment_reduction_op)."""

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
    reciprocal_lengths,
    rows_view,
    segment_reduce,
    segments_shape,
)


@register_cpu_operator(
    "LengthsMean",
    inputs=["DATA", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=segments_shape,
    example=Example(
        {
            "DATA": np.array([2, 4, 3, 1, 2, 10], np.float32),
            "LENGTHS": np.array([2, 3, 1], np.int32),
        },
        {"OUTPUT": np.array([3, 2, 10], np.float32)},
    ),
    doc="""Mean of consecutive slices of DATA, one segment per LENGTHS entry.

The segment sum is multiplied by 1/length, only for non-empty segments: an empty
segment gives 0. sum(LENGTHS) must equal DATA.shape[0]; LENGTHS is int32.

Example: DATA=[2, 4, 3, 1, 2, 10], LENGTHS=[2, 3, 1] -> OUTPUT=[3, 2, 10]""",
)
def lengths_mean(data, lengths):
    """Per-segment mean of consecutive rows of DATA."""
    check_segment_lengths(lengths)
    check_float_data(data)
    check_lengths_cover_data(lengths, data.shape[0])
    out = segment_reduce(rows_view(data), lengths)
    out *= reciprocal_lengths(lengths, out.dtype)[:, None]
    return (out.reshape((lengths.shape[0],) + data.shape[1:]),)


@register_gradient("LengthsMean")
def lengths_mean_gradient(g):
    """LengthsIndicesInGradientMeanGradient([dOUT, LENGTHS, DATA]) -> DATA_grad."""
    return [
        g.op_def(
            "LengthsIndicesInGradientMeanGradient", [g.GO(0), g.I(1), g.I(0)], [g.GI(0)]
        )
    ]


def mean_gradient(segment_grads, lengths):
    """Row j of the result is its segment's output gradient divided by the length."""
    check_segment_lengths(lengths)
    check_segment_grads(segment_grads, lengths)
    scale = reciprocal_lengths(lengths, segment_grads.dtype)
    scaled = segment_grads * scale.reshape((-1,) + (1,) * (segment_grads.ndim - 1))
    return (expand_segment_grads(scaled, lengths),)


_MEAN_GRADIENT_DOC = """Gradient of {forward}: each of the sum(LENGTHS) rows gets the
output gradient of its segment divided by the segment's length. {extra}

Example: SEGMENT_GRADS=[[2, 4], [3, 3]], LENGTHS=[2, 1] -> [[1, 2], [1, 2], [3, 3]]"""


@register_cpu_operator(
    "LengthsIndicesInGradientMeanGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS", "INDICES"],
    outputs=["DATA_GRAD"],
    shape=lambda grads, lengths, indices: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[2, 4], [3, 3]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "INDICES": np.array([[0, 0], [0, 0], [0, 0]], np.float32),
        },
        {"DATA_GRAD": np.array([[1, 2], [1, 2], [3, 3]], np.float32)},
    ),
    doc=_MEAN_GRADIENT_DOC.format(
        forward="LengthsMean", extra="The third input (the forward DATA) is not read."
    ),
)
def lengths_indices_in_gradient_mean_gradient(segment_grads, lengths, indices):
    """LengthsMean's gradient."""
    return mean_gradient(segment_grads, lengths)


@register_cpu_operator(
    "LengthsMeanGradient",
    inputs=["SEGMENT_GRADS", "LENGTHS"],
    outputs=["DATA_GRAD"],
    shape=lambda grads, lengths: (expanded_shape(grads),),
    example=Example(
        {
            "SEGMENT_GRADS": np.array([[2, 4], [3, 3]], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
        },
        {"DATA_GRAD": np.array([[1, 2], [1, 2], [3, 3]], np.float32)},
    ),
    doc=_MEAN_GRADIENT_DOC.format(
        forward="LengthsMean", extra="The 2-input form kept for older nets."
    ),
)
def lengths_mean_gradient_op(segment_grads, lengths):
    """The legacy 2-input gradient of LengthsMean."""
    return mean_gradient(segment_grads, lengths)


gradient_not_implemented_yet("LengthsIndicesInGradientMeanGradient")
gradient_not_implemented_yet("LengthsMeanGradient")
