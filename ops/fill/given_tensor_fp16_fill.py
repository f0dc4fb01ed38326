"""GivenTensorFp16Fill: a float16 tensor holding the listed ``values``."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import REQUIRED, Arg
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._filler import SHAPE_ARGS, filler_shape_function
from .constant_fill import TP
from .given_tensor_fill import fill_given


@register_cpu_operator(
    "GivenTensorFp16Fill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=[Arg("values", "any", REQUIRED, doc="the elements, as floats")] + SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: np.dtype(np.float16)),
    example=Example(
        {},
        {"output": np.array([[0.5, -2.0], [0.1, 65519.0]], np.float16)},
        {"values": [0.5, -2.0, 0.1, 65519.0], "shape": [2, 2]},
    ),
    doc="""GivenTensorFill with float16 elements: the `values` (floats, row-major, in the
Argument's floats field) are each rounded to the nearest float16 (after the float32
an Argument holds; beyond 65504 they become inf). The number of values must equal the
number of elements ("output size: N given size: M"). The shape is the `shape` argument
without an input, or the input's shape (its int64 values with `input_as_shape`)
followed by `extra_shape`. A `dtype` argument is ignored, as Caffe2's typed
given-tensor fills ignored it.""",
)
def given_tensor_fp16_fill(
    *inputs: np.ndarray,
    values: Any,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
) -> tuple[np.ndarray]:
    """The given values as float16, in the filler shape."""
    with np.errstate(over="ignore"):  # beyond float16's range is inf, as in Caffe2
        out = fill_given(inputs, values, TP.FLOAT16, shape, extra_shape, input_as_shape)
    return (out,)


no_gradient("GivenTensorFp16Fill")
