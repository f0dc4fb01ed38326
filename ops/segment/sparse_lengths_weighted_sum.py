"""SparseLengthsWeightedSum and its gradient operators (Caffe2 lengths_reducer_ops)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .. import _embedding_native as native
from ._segment_checks import (
    check_float_data,
    check_index_type,
    check_rows_in_range,
    check_sum_of_lengths,
)
from ._segment_kernels import (
    expand_segment_grads,
    expanded_shape,
    rows_view,
    segments_shape,
    sequential_dots,
    sparse_lengths_cost,
    sparse_lengths_reduce,
)
from .lengths_weighted_sum import weighted_gradient, weights_gradient


def _with_main_input_shape(
    weights: TensorShape,
    grads: TensorShape,
    lengths: TensorShape,
    data: TensorShape,
    indices: TensorShape,
    *,
    num_outputs: int = 2,
) -> tuple[TensorShape, ...]:
    """DATA_GRAD_VALUES: one row of SEGMENT_GRADS' trailing dims per index;
    WEIGHTS_GRAD like WEIGHTS (both of the gradients' type)."""
    rows = indices.dims[0] if indices.dims else "sum(LENGTHS)"
    out = (expanded_shape(grads, rows), TensorShape(weights.dims, grads.dtype))
    return out[:num_outputs]


@register_cpu_operator(
    "SparseLengthsWeightedSum",
    inputs=["DATA", "WEIGHTS", "INDICES", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=lambda data, weights, indices, lengths: segments_shape(data, lengths),
    cost=sparse_lengths_cost(True),
    example=Example(
        {
            "DATA": np.array([[1, 2], [3, 4], [5, 6]], np.float32),
            "WEIGHTS": np.array([1, 2, 0.5], np.float32),
            "INDICES": np.array([2, 0, 2], np.int64),
            "LENGTHS": np.array([2, 0, 1], np.int32),
        },
        {"OUTPUT": np.array([[7, 10], [0, 0], [2.5, 3]], np.float32)},
    ),
    args=[
        Arg(
            "grad_on_weights",
            bool,
            False,
            doc="also compute the gradient of WEIGHTS in the backward pass",
        )
    ],
    doc="""Gather rows of DATA by INDICES, scale row j by WEIGHTS[j] and sum them per
segment (Gather + LengthsWeightedSum fused, in one pass, without materialising the
gathered rows).

WEIGHTS is a vector with one value per index, of OUTPUT's type; INDICES (int32 or
int64) and LENGTHS (int32) as in SparseLengthsSum. Each product WEIGHTS[j] * row is
rounded, then added in index order to the segment's zeroed row (Caffe2 fused the
multiply-add where the processor had FMA: the last bit may differ from that). An
empty segment gives 0; an index outside DATA's rows is an error.

Example: DATA=[[1, 2], [3, 4], [5, 6]], WEIGHTS=[1, 2, 0.5], INDICES=[2, 0, 2],
LENGTHS=[2, 0, 1] -> OUTPUT=[[7, 10], [0, 0], [2.5, 3]]""",
)
def sparse_lengths_weighted_sum(data, weights, indices, lengths, *, grad_on_weights):
    """Per-segment sum of WEIGHTS[j] * DATA[INDICES[j]]."""
    return (sparse_lengths_reduce(data, indices, lengths, weights=weights),)


@register_gradient("SparseLengthsWeightedSum")
def sparse_lengths_weighted_sum_gradient(g):
    """SparseLengthsIndicesInGradientWeightedSum[WithMainInput]Gradient; DATA's gradient
    is the slice (INDICES, DATA_grad_values)."""
    if g.arg("grad_on_weights", False):
        ops = [
            g.op_def(
                "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
                [g.I(1), g.GO(0), g.I(3), g.I(0), g.I(2)],
                [g.GI_V(0), g.GI(1)],
            )
        ]
    else:
        ops = [
            g.op_def(
                "SparseLengthsIndicesInGradientWeightedSumGradient",
                [g.I(1), g.GO(0), g.I(3), g.I(2)],
                [g.GI_V(0)],
            )
        ]
    g.SetSparse(0, g.I(2), g.GI_V(0))
    return ops


_DOC = """Gradient of SparseLengthsWeightedSum for DATA: the values of its sparse
gradient, row j = output gradient of j's segment times WEIGHTS[j]. {extra}

Example: WEIGHTS=[1, 2, 3], SEGMENT_GRADS=[10, 20], LENGTHS=[2, 1]
-> DATA_GRAD_VALUES=[10, 20, 60]"""


@register_cpu_operator(
    "SparseLengthsIndicesInGradientWeightedSumGradient",
    inputs=["WEIGHTS", "SEGMENT_GRADS", "LENGTHS", "INDICES"],
    outputs=["DATA_GRAD_VALUES"],
    shape=lambda weights, grads, lengths, indices: (expanded_shape(grads),),
    example=Example(
        {
            "WEIGHTS": np.array([1, 2, 3], np.float32),
            "SEGMENT_GRADS": np.array([10, 20], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "INDICES": np.array([1, 1, 0], np.int64),
        },
        {"DATA_GRAD_VALUES": np.array([10, 20, 60], np.float32)},
    ),
    doc=_DOC.format(extra="INDICES is not read on CPU."),
)
def sparse_lengths_indices_in_gradient_weighted_sum_gradient(
    weights, segment_grads, lengths, indices
):
    """SparseLengthsWeightedSum's gradient values."""
    return (tile_weighted(weights, segment_grads, lengths),)


@register_cpu_operator(
    "SparseLengthsWeightedSumGradient",
    inputs=["WEIGHTS", "SEGMENT_GRADS", "LENGTHS"],
    outputs=["DATA_GRAD_VALUES"],
    shape=lambda weights, grads, lengths: (expanded_shape(grads),),
    example=Example(
        {
            "WEIGHTS": np.array([1, 2, 3], np.float32),
            "SEGMENT_GRADS": np.array([10, 20], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
        },
        {"DATA_GRAD_VALUES": np.array([10, 20, 60], np.float32)},
    ),
    doc=_DOC.format(extra="The 3-input form kept for older nets."),
)
def sparse_lengths_weighted_sum_gradient_op(weights, segment_grads, lengths):
    """The legacy 3-input gradient of SparseLengthsWeightedSum."""
    return (tile_weighted(weights, segment_grads, lengths),)


def tile_weighted(weights, segment_grads, lengths):
    """Row j = the output gradient of j's segment times WEIGHTS[j]: the compiled
    one-pass tile when it takes the inputs, else the numpy kernel (which checks)."""
    fast = native.tile
    if fast is not None:
        out = fast(segment_grads, lengths, weights, False)
        if out is not None:
            return out
    return weighted_gradient(weights, segment_grads, lengths, blob="WEIGHTS")


def with_main_input(weights, segment_grads, lengths, data, indices, num_outputs):
    """Gradient values for DATA and, with two outputs, WEIGHTS_GRAD[j] =
    dot(output gradient of j's segment, DATA[INDICES[j]]), its products added in
    order (the compiled tile_dot's order, in one pass; numpy: sequential_dots)."""
    if num_outputs == 1:
        return (tile_weighted(weights, segment_grads, lengths),)
    fast = native.tile_dot
    if fast is not None:
        both = fast(segment_grads, lengths, weights, data, indices)
        if both is not None:
            return both
    values = weighted_gradient(weights, segment_grads, lengths, blob="WEIGHTS")
    check_float_data(data, "DATA_INPUT")
    check_dtype(data, "DATA_INPUT", segment_grads.dtype)
    check_index_type(indices)
    check_sum_of_lengths(lengths, indices)
    check_rows_in_range(indices, indices.shape[0], data.shape[0])
    rows = np.take(rows_view(data), indices, axis=0)
    expanded = rows_view(expand_segment_grads(segment_grads, lengths))
    if expanded.shape != rows.shape:
        return values, weights_gradient(expanded, rows)  # raises the block-size error
    return values, sequential_dots(expanded, rows)


_MAIN_DOC = """Gradient of SparseLengthsWeightedSum with grad_on_weights: the DATA
gradient values as in SparseLengthsIndicesInGradientWeightedSumGradient and
WEIGHTS_GRAD[j] = dot(output gradient of j's segment, DATA[INDICES[j]]). {extra}

Example: WEIGHTS=[1, 2, 3], SEGMENT_GRADS=[10, 20], LENGTHS=[2, 1], DATA=[5, 1],
INDICES=[1, 1, 0] -> DATA_GRAD_VALUES=[10, 20, 60], WEIGHTS_GRAD=[10, 10, 100]"""


@register_cpu_operator(
    "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
    inputs=["WEIGHTS", "SEGMENT_GRADS", "LENGTHS", "DATA_INPUT", "INDICES"],
    outputs=["DATA_GRAD_VALUES", "WEIGHTS_GRAD"],
    shape=_with_main_input_shape,
    example=Example(
        {
            "WEIGHTS": np.array([1, 2, 3], np.float32),
            "SEGMENT_GRADS": np.array([10, 20], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "DATA": np.array([5, 1], np.float32),
            "INDICES": np.array([1, 1, 0], np.int64),
        },
        {
            "DATA_GRAD_VALUES": np.array([10, 20, 60], np.float32),
            "WEIGHTS_GRAD": np.array([10, 10, 100], np.float32),
        },
    ),
    doc=_MAIN_DOC.format(
        extra="The gradient op SparseLengthsWeightedSum's maker emits."
    ),
)
def sparse_lengths_indices_in_gradient_weighted_sum_with_main_input_gradient(
    weights, segment_grads, lengths, data, indices
):
    """SparseLengthsWeightedSum's gradient for DATA (values) and WEIGHTS."""
    return with_main_input(weights, segment_grads, lengths, data, indices, 2)


@register_cpu_operator(
    "SparseLengthsWeightedSumWithMainInputGradient",
    inputs=["WEIGHTS", "SEGMENT_GRADS", "LENGTHS", "DATA_INPUT", "INDICES"],
    outputs=["DATA_GRAD_VALUES", "WEIGHTS_GRAD"],
    shape=_with_main_input_shape,
    example=Example(
        {
            "WEIGHTS": np.array([1, 2, 3], np.float32),
            "SEGMENT_GRADS": np.array([10, 20], np.float32),
            "LENGTHS": np.array([2, 1], np.int32),
            "DATA": np.array([5, 1], np.float32),
            "INDICES": np.array([1, 1, 0], np.int64),
        },
        {
            "DATA_GRAD_VALUES": np.array([10, 20, 60], np.float32),
            "WEIGHTS_GRAD": np.array([10, 10, 100], np.float32),
        },
    ),
    num_outputs=(1, 2),
    doc=_MAIN_DOC.format(extra="The older name; WEIGHTS_GRAD only when asked for."),
)
def sparse_lengths_weighted_sum_with_main_input_gradient(
    weights, segment_grads, lengths, data, indices, *, num_outputs
):
    """The older-named gradient of SparseLengthsWeightedSum with grad_on_weights."""
    return with_main_input(weights, segment_grads, lengths, data, indices, num_outputs)


gradient_not_implemented_yet("SparseLengthsIndicesInGradientWeightedSumGradient")
gradient_not_implemented_yet("SparseLengthsWeightedSumGradient")
gradient_not_implemented_yet(
    "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient"
)
gradient_not_implemented_yet("SparseLengthsWeightedSumWithMainInputGradient")
