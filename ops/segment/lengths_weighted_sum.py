"""LengthsWeightedSum and its gradient operators (Caffe2 segment_reduction_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from ._segment_checks import (
    check_aux_rows,
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


def check_scalars(scalars: np.ndarray, rows: int, dtype: np.dtype) -> None:
    """SCALARS: one value per DATA row, a vector of DATA's type."""
    check_aux_rows(scalars, "SCALARS", rows, index=1)
    if scalars.ndim != 1:
        raise ShapeError(
            "SCALARS mustn't have extra dimensions",
            blob="SCALARS",
            expected="1-D",
            found=f"shape {scalars.shape}",
        )
    check_dtype(scalars, "SCALARS", dtype)


def _with_main_input_shape(
    scalars: TensorShape,
    grads: TensorShape,
    lengths: TensorShape,
    data: TensorShape,
    *,
    num_outputs: int = 2,
) -> tuple[TensorShape, ...]:
    """DATA_GRAD like the forward DATA, SCALARS_GRAD like SCALARS (of the gradients'
    type)."""
    out = (TensorShape(data.dims, grads.dtype), TensorShape(scalars.dims, grads.dtype))
    return out[:num_outputs]


@register_cpu_operator(
    "LengthsWeightedSum",
    inputs=["DATA", "SCALARS", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=lambda data, scalars, lengths: segments_shape(data, lengths),
    example=Example(
        {
            "DATA": np.array([2, 4, 3, 1, 2, 10], np.float32),
            "SCALARS": np.array([8, 2, 1, 4, 1, 0.6], np.float32),
            "LENGTHS": np.array([2, 3, 1], np.int32),
        },
        {"OUTPUT": np.array([24, 9, 6], np.float32)},
    ),
    args=[
        Arg(
            "grad_on_weights",
            bool,
            False,
            doc="also compute the gradient of SCALARS in the backward pass",
        )
    ],
    doc="""Weighted sum of consecutive slices of DATA, one segment per LENGTHS entry.

Row j of DATA is multiplied by SCALARS[j] (a vector with one value per row) before
the segment sums; an empty segment gives 0. sum(LENGTHS) must equal DATA.shape[0].

Example: DATA=[2, 4, 3, 1, 2, 10], SCALARS=[8, 2, 1, 4, 1, 0.6], LENGTHS=[2, 3, 1]
-> OUTPUT=[24, 9, 6]""",
)
def lengths_weighted_sum(data, scalars, lengths, *, grad_on_weights):
    """Per-segment sum of SCALARS[j] * DATA[j] over consecutive rows."""
    check_segment_lengths(lengths)
    check_float_data(data)
    check_scalars(scalars, data.shape[0], data.dtype)
    check_lengths_cover_data(lengths, data.shape[0])
    out = segment_reduce(rows_view(data), lengths, weights=scalars)
    return (out.reshape((lengths.shape[0],) + data.shape[1:]),)


@register_gradient("LengthsWeightedSum")
def lengths_weighted_sum_gradient(g):
    """LengthsWeightedSumGradient([SCALARS, dOUT, LENGTHS]) -> DATA_grad, or with
    grad_on_weights LengthsWeightedSumWithMainInputGradient(... + [DATA]) -> + SCALARS_grad."""
    if g.arg("grad_on_weights", False):
        return [
            g.op_def(
                "LengthsWeightedSumWithMainInputGradient",
                [g.I(1), g.GO(0), g.I(2), g.I(0)],
                [g.GI(0), g.GI(1)],
            )
        ]
    return [
        g.op_def("LengthsWeightedSumGradient", [g.I(1), g.GO(0), g.I(2)], [g.GI(0)])
    ]


def weighted_gradient(scalars, segment_grads, lengths, blob="SCALARS"):
    """Rows of the data gradient: segment gradient times the row's weight."""
    check_segment_lengths(lengths)
    check_segment_grads(segment_grads, lengths)
    rows = int(lengths.sum(dtype=np.int64))
    check_aux_rows(scalars, blob, rows)
    check_dtype(scalars, blob, segment_grads.dtype)
    expanded = expand_segment_grads(segment_grads, lengths)
    # Caffe2 reads the weights as a flat array, one value per reduced row.
    weights = scalars.reshape(-1)[:rows]
    expanded *= weights.reshape((-1,) + (1,) * (expanded.ndim - 1))
    return expanded


def weights_gradient(expanded_unweighted: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """d weight[j] = dot(segment gradient of row j, DATA row j)."""
    a, b = rows_view(expanded_unweighted), rows_view(rows)
    if a.shape != b.shape:
        raise EnforceError(
            "DATA rows and the output gradient must have the same block size",
            blob="DATA_INPUT",
            expected=f"block size {a.shape[1]}",
            found=f"block size {b.shape[1]}",
        )
    if a.shape[1] == 0:  # numpy < 1.25's einsum leaves an empty sum uninitialised
        return np.zeros(a.shape[0], dtype=np.result_type(a, b))
    return np.einsum("ij,ij->i", a, b)


@register_cpu_operator(
    "LengthsWeightedSumGradient",
    inputs=["SCALARS", "SEGMENT_GRADS", "LENGTHS"],
    outputs=["DATA_GRAD"],
    shape=lambda scalars, grads, lengths: (expanded_shape(grads),),
    example=Example(
        {
            "SCALARS": np.array([1, 2, 3], np.float32),
            "SEGMENT_GRADS": np.array([10, 20], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
        },
        {"DATA_GRAD": np.array([10, 20, 60], np.float32)},
    ),
    doc="""Gradient of LengthsWeightedSum for DATA: row j gets its segment's output
gradient times SCALARS[j].

Example: SCALARS=[1, 2, 3], SEGMENT_GRADS=[10, 20], LENGTHS=[2, 1]
-> DATA_GRAD=[10, 20, 60]""",
)
def lengths_weighted_sum_gradient_op(scalars, segment_grads, lengths):
    """LengthsWeightedSum's DATA gradient."""
    return (weighted_gradient(scalars, segment_grads, lengths),)


@register_cpu_operator(
    "LengthsWeightedSumWithMainInputGradient",
    inputs=["SCALARS", "SEGMENT_GRADS", "LENGTHS", "DATA_INPUT"],
    outputs=["DATA_GRAD", "SCALARS_GRAD"],
    shape=_with_main_input_shape,
    example=Example(
        {
            "SCALARS": np.array([1, 2, 3], np.float32),
            "SEGMENT_GRADS": np.array([10, 20], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "DATA_INPUT": np.array([1, 1, 2], np.float32),
        },
        {
            "DATA_GRAD": np.array([10, 20, 60], np.float32),
            "SCALARS_GRAD": np.array([10, 10, 40], np.float32),
        },
    ),
    num_outputs=(1, 2),
    doc="""Gradient of LengthsWeightedSum with grad_on_weights: DATA_GRAD as in
LengthsWeightedSumGradient and, when asked for, SCALARS_GRAD[j] = dot(output gradient
of row j's segment, DATA[j]).

Example: SCALARS=[1, 2, 3], SEGMENT_GRADS=[10, 20], LENGTHS=[2, 1],
DATA_INPUT=[1, 1, 2] -> DATA_GRAD=[10, 20, 60], SCALARS_GRAD=[10, 10, 40]""",
)
def lengths_weighted_sum_with_main_input_gradient(
    scalars, segment_grads, lengths, data, *, num_outputs
):
    """LengthsWeightedSum's gradient for DATA and, with two outputs, for SCALARS."""
    data_grad = weighted_gradient(scalars, segment_grads, lengths)
    if num_outputs == 1:
        return (data_grad,)
    check_float_data(data, "DATA_INPUT")
    check_dtype(data, "DATA_INPUT", segment_grads.dtype)
    check_lengths_cover_data(lengths, data.shape[0])
    unweighted = expand_segment_grads(segment_grads, lengths)
    return data_grad, weights_gradient(unweighted, data)


gradient_not_implemented_yet("LengthsWeightedSumGradient")
gradient_not_implemented_yet("LengthsWeightedSumWithMainInputGradient")
