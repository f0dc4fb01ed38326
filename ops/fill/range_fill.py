"""RangeFill: a float32 tensor holding 0, 1, 2, ... in row-major order."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function


@register_cpu_operator(
    "RangeFill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: np.dtype(np.float32)),
    example=Example(
        {}, {"output": np.array([[0, 1, 2], [3, 4, 5]], np.float32)}, {"shape": [2, 3]}
    ),
    doc="""Fill a float32 tensor with its own flat indices, 0, 1, 2, ... in row-major order
(a debugging aid: it shows where reshapes and transposes move elements). The shape is
the ``shape`` argument without an input, or the input's shape (its int64 values with
``input_as_shape``) followed by ``extra_shape``. Indices above 2**24 round to the
nearest float32, as Caffe2's int-to-float conversion did.""",
)
def range_fill(
    *inputs: np.ndarray, shape: Any, extra_shape: list[int], input_as_shape: bool
) -> tuple[np.ndarray]:
    """0, 1, 2, ... as float32, in the filler shape."""
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    size = int(np.prod(out_shape, dtype=np.int64))
    return (np.arange(size, dtype=np.int64).astype(np.float32).reshape(out_shape),)


no_gradient("RangeFill")
