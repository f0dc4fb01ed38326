"""Int8Slice: Slice of an Int8 tensor (at most one dimension cut), keeping its
quantisation."""

from __future__ import annotations

import numpy as np

from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from ..shape.slice import _ARGS as SLICE_ARGS
from ..shape.slice import _bounds_from, slice_bounds
from ..shape.slice import _shape as slice_shape
from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation


def _shape(
    data: TensorShape,
    *inputs: TensorShape,
    starts=None,
    ends=None,
    dim=None,
    start_idx=None,
    end_idx=None,
    **kwargs,
):
    if dim is not None and start_idx is not None and end_idx is not None and data.dims:
        starts = [0] * len(data.dims)
        ends = [-1] * len(data.dims)
        starts[dim], ends[dim] = start_idx, end_idx
    (y,) = slice_shape(data, *inputs, starts=starts, ends=ends)
    return (y.with_dtype(np.dtype(np.uint8)),)


@register_cpu_operator(
    "Int8Slice",
    inputs=["data", "starts", "ends"],
    outputs=["output"],
    num_inputs=(1, 3),
    args=[
        *SLICE_ARGS,
        Arg(
            "dim",
            int,
            None,
            doc="with start_idx and end_idx: slice this dimension only",
        ),
        Arg("start_idx", int, None),
        Arg("end_idx", int, None),
        *Y_ARGS,
    ],
    shape=_shape,
    example=Example(
        {"data": Int8Tensor(np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.uint8), 0.5, 2)},
        {"output": Int8Tensor(np.array([[2, 3], [6, 7]], np.uint8), 0.5, 2)},
        {"starts": [0, 1], "ends": [-1, 3], "Y_scale": 0.5, "Y_zero_point": 2},
    ),
    doc="""A slice of an Int8 tensor along at most one dimension, as Slice: the bounds
come from the starts/ends inputs (int32/int64), the `starts`/`ends` arguments, or
`dim` with `start_idx` and `end_idx` (the other dimensions whole); negative indices
count from the end (end -1 keeps the last element). The output keeps data's scale and
zero point, which Y_scale and Y_zero_point must equal.

Example: data=[[1, 2, 3, 4], [5, 6, 7, 8]] with starts=[0, 1], ends=[-1, 3] ->
output=[[2, 3], [6, 7]]""",
)
def int8_slice(
    data,
    *index,
    starts,
    ends,
    dim,
    start_idx,
    end_idx,
    Y_scale: float,
    Y_zero_point: int,
) -> tuple:
    q = int8_input(data, "data")
    if not index and dim is not None and start_idx is not None and end_idx is not None:
        rank = q.data.ndim
        starts, ends = [0] * rank, [-1] * rank
        starts[dim], ends[dim] = start_idx, end_idx
    lo, hi = _bounds_from(index, starts, ends)
    same_quantisation(q, Y_scale, Y_zero_point)
    out = q.data[tuple(slice_bounds(q.data.shape, lo, hi))].copy()
    return (Int8Tensor(out, q.scale, q.zero_point),)


gradient_not_implemented_yet("Int8Slice")
