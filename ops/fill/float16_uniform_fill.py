"""Float16UniformFill: a float16 tensor of uniform samples in [min, max]."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ._fill_common import uniform_floats


def float16_uniform_fill_shape(*, shape: list[int]) -> tuple[TensorShape]:
    """The ``shape`` argument, float16 (Caffe2's Float16FillerTensorInference)."""
    return (TensorShape(tuple(shape), np.float16),)


@register_cpu_operator(
    "Float16UniformFill",
    inputs=[],
    outputs=["output"],
    args=[
        Arg("shape", "ints", [], doc="the output shape (at least 1 dimension)"),
        Arg("min", float, 0.0, doc="lower bound"),
        Arg("max", float, 1.0, doc="upper bound, > min"),
    ],
    shape=float16_uniform_fill_shape,
    example=Example(
        {},
        {"output": np.zeros((2, 3), np.float16)},
        {"shape": [2, 3], "min": -1.0, "max": 1.0},
        exact=False,
    ),
    doc="""Fill a float16 tensor of the given `shape` with samples of the uniform
distribution between `min` and `max`: float32 samples of [min, max) rounded to the
nearest float16 (so `max` itself can appear). min < max is required ("Max value
should be bigger than min value."). The shape needs at least one dimension and a
first dimension above 0 (Caffe2's CPU kernel divided by it). Takes no input. Random
draws come from the operator's generator, seeded by ``device_option.random_seed``.

Example: shape=[2, 3], min=-1, max=1 -> output of shape (2, 3), float16, e.g.
[[0.271, -0.912, 0.553], [-0.334, 0.08, 0.72]]""",
)
def float16_uniform_fill(
    *, shape: list[int], min: float, max: float, rng: np.random.Generator
) -> tuple[np.ndarray]:
    """U[min, max) float32 samples of ``shape``, as float16."""
    lo, hi = np.float32(min), np.float32(max)
    if not lo < hi:
        raise EnforceError(
            f"min_ < max_. {lo:g} vs {hi:g}. Max value should be bigger than "
            "min value.",
            arg="max",
            expected=f"max > min = {lo:g}",
            found=f"{hi:g}",
        )
    if not shape:
        raise ShapeError(
            "Float16UniformFill fills row by row (rows = shape[0]), so its "
            "shape needs at least 1 dimension",
            arg="shape",
            expected="a shape of rank >= 1",
            found=list(shape),
        )
    if any(d < 0 for d in shape):
        raise ShapeError(
            "a tensor dimension cannot be negative",
            arg="shape",
            expected="dimensions >= 0",
            found=list(shape),
        )
    if shape[0] == 0:
        raise EnforceError(
            "leading_dim_sz > 0. 0 vs 0. The input shape should have the "
            "first dimension greater than 0",
            arg="shape",
            expected="shape[0] > 0",
            found=list(shape),
        )
    return (uniform_floats(rng, tuple(shape), lo, hi).astype(np.float16),)


no_gradient("Float16UniformFill")
