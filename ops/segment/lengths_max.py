"""LengthsMax and its gradient operator (Caffe2 segment_reduction_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from ._segment_checks import (
    check_float_data,
    check_lengths_cover_data,
    check_segment_grads,
    check_segment_lengths,
)
from ._segment_kernels import (
    expand_segment_grads,
    rows_view,
    segment_max,
    segments_shape,
)


@register_cpu_operator(
    "LengthsMax",
    inputs=["DATA", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=segments_shape,
    example=Example(
        {
            "DATA": np.array([2, 4, 3, 1, 2, 10], np.float32),
            "LENGTHS": np.array([2, 3, 1], np.int32),
        },
        {"OUTPUT": np.array([4, 3, 10], np.float32)},
    ),
    doc="""Element-wise max of consecutive slices of DATA, one segment per LENGTHS entry.

sum(LENGTHS) must equal DATA.shape[0]; LENGTHS is int32. An empty segment gives 0
(Caffe2's C++ left that row uninitialised; its Python tests expect 0).

Example: DATA=[2, 4, 3, 1, 2, 10], LENGTHS=[2, 3, 1] -> OUTPUT=[4, 3, 10]""",
)
def lengths_max(data, lengths):
    """Per-segment element-wise max of consecutive rows of DATA."""
    check_segment_lengths(lengths)
    check_float_data(data)
    check_lengths_cover_data(lengths, data.shape[0])
    out = segment_max(rows_view(data), lengths)
    return (out.reshape((lengths.shape[0],) + data.shape[1:]),)


@register_gradient("LengthsMax")
def lengths_max_gradient(g):
    """LengthsMaxWithMainInputAndForwardOutputGradient([OUTPUT, dOUT, LENGTHS, DATA])."""
    return [
        g.op_def(
            "LengthsMaxWithMainInputAndForwardOutputGradient",
            [g.O(0), g.GO(0), g.I(1), g.I(0)],
            [g.GI(0)],
        )
    ]


@register_cpu_operator(
    "LengthsMaxWithMainInputAndForwardOutputGradient",
    inputs=["FORWARD_OUTPUT", "SEGMENT_GRADS", "LENGTHS", "DATA_INPUT"],
    outputs=["DATA_GRAD"],
    shape=lambda out, grads, lengths, data: (TensorShape(data.dims, grads.dtype),),
    example=Example(
        {
            "FORWARD_OUTPUT": np.array([4, 3], np.float32),
            "SEGMENT_GRADS": np.array([1, 2], np.float32),
            "LENGTHS": np.array([2, 2], np.int32),
            "DATA_INPUT": np.array([2, 4, 3, 3], np.float32),
        },
        {"DATA_GRAD": np.array([0, 1, 2, 2], np.float32)},
    ),
    doc="""Gradient of LengthsMax: an element of DATA gets its segment's output gradient
where it equals the segment's forward output (every tied element does), else 0.

Example: FORWARD_OUTPUT=[4, 3], SEGMENT_GRADS=[1, 2], LENGTHS=[2, 2],
DATA_INPUT=[2, 4, 3, 3] -> DATA_GRAD=[0, 1, 2, 2]""",
)
def lengths_max_with_main_input_and_forward_output_gradient(
    forward_output, segment_grads, lengths, data
):
    """LengthsMax's gradient, routed to the elements equal to the segment max."""
    check_segment_lengths(lengths)
    check_segment_grads(segment_grads, lengths)
    dtype = segment_grads.dtype
    check_dtype(forward_output, "FORWARD_OUTPUT", dtype)
    check_dtype(data, "DATA_INPUT", dtype)
    if forward_output.ndim < 1 or forward_output.shape[0] != lengths.shape[0]:
        raise EnforceError(
            "numSegments == forwardOutputInput.size(0)",
            blob="FORWARD_OUTPUT",
            expected=f"first dim {lengths.shape[0]} (len(LENGTHS))",
            found=f"shape {forward_output.shape}",
        )
    if data.ndim < 1:
        raise EnforceError(
            "DATA should be at least 1-D",
            blob="DATA_INPUT",
            expected="rank >= 1",
            found=f"shape {data.shape}",
        )
    check_lengths_cover_data(lengths, data.shape[0])
    grads2d, out2d, data2d = (
        rows_view(segment_grads),
        rows_view(forward_output),
        rows_view(data),
    )
    if not grads2d.shape[1] == out2d.shape[1] == data2d.shape[1]:
        raise EnforceError(
            "DATA, OUTPUT and the output gradient must have the same block size",
            blob="DATA_INPUT",
            expected=f"block size {grads2d.shape[1]}",
            found=f"{data2d.shape[1]} (DATA), {out2d.shape[1]} (OUTPUT)",
        )
    winners = data2d == expand_segment_grads(out2d, lengths)
    grad = np.where(
        winners, expand_segment_grads(grads2d, lengths), np.zeros((), dtype)
    )
    return (grad.reshape(data.shape),)


gradient_not_implemented_yet("LengthsMaxWithMainInputAndForwardOutputGradient")
