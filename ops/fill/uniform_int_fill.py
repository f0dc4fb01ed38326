"""UniformIntFill: an int32 tensor of uniform samples in [min, max], both inclusive."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.opschema import Arg

from caffe2lite.schema.example import Example

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function
from .uniform_fill import empty_first_dim, uniform_range


@register_cpu_operator(
    "UniformIntFill",
    inputs=["input", "min", "max"],
    outputs=["output"],
    shape=filler_shape_function(lambda kw: np.dtype(np.int32), bounded=True),
    example=Example(
        {},
        {"output": np.array([3, 1, 1, 2], np.int32)},
        {"shape": [4], "min": 1, "max": 3},
        exact=False,
    ),
    allowed_inputs={0, 1, 3},
    allow_inplace=[(0, 0)],
    args=[
        Arg("min", int, None, doc="lower bound, inclusive (default 0)"),
        Arg("max", int, None, doc="upper bound, inclusive (default 1)"),
    ]
    + SHAPE_ARGS,
    doc="""Fill an int32 tensor with integers drawn uniformly from [min, max] (both ends
included). Shape rules, the 3-input form (1-element int32 min and max blobs) and
seeding are those of UniformFill; without the blobs min < max is required.

Example: shape=[4], min=1, max=3 -> output=[3, 1, 1, 2] (any values in {1, 2, 3})""",
)
def uniform_int_fill(
    *inputs: np.ndarray,
    min: int | None,
    max: int | None,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray]:
    """Uniform int32 samples in [min, max] of the filler shape."""
    shape_inputs, lo, hi, empty = uniform_range(
        "UniformIntFill", inputs, min, max, np.int32, 1, "d"
    )
    out_shape = filler_shape(shape_inputs, shape, extra_shape, input_as_shape)
    if empty:
        return (np.empty(empty_first_dim(out_shape), dtype=np.int32),)
    return (rng.integers(lo, hi, size=out_shape, dtype=np.int32, endpoint=True),)


no_gradient("UniformIntFill")
