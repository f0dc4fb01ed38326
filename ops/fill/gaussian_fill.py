"""GaussianFill: a float tensor of normal samples N(mean, std**2)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.checks import enforce
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.opschema import Arg

from caffe2lite.schema.example import Example

from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function


@register_cpu_operator(
    "GaussianFill",
    inputs=["input"],
    outputs=["output"],
    shape=filler_shape_function(lambda kw: np.dtype(np.float32)),
    example=Example(
        {},
        {"output": np.array([10.03, 9.88, 10.12], np.float32)},
        {"shape": [3], "mean": 10.0, "std": 0.1},
        exact=False,
    ),
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=[
        Arg("mean", float, 0.0, doc="mean of the distribution"),
        Arg("std", float, 1.0, doc="standard deviation, >= 0"),
    ]
    + SHAPE_ARGS,
    doc="""Fill a float32 tensor with samples of a normal distribution of the given mean
and standard deviation. The shape is the ``shape`` argument without an input, or the
input's shape (its int64 values with ``input_as_shape``) followed by ``extra_shape``.
Random draws come from the operator's generator, seeded by
``device_option.random_seed``.

Example: shape=[3], mean=10, std=0.1 -> output=[10.03, 9.88, 10.12] (any values; about
68% within one std of the mean)""",
)
def gaussian_fill(
    *inputs: np.ndarray,
    mean: float,
    std: float,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray]:
    """Normal float32 samples of the filler shape."""
    enforce(
        std >= 0,
        "Standard deviation should be nonnegative.",
        arg="std",
        expected="std >= 0",
        found=std,
    )
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    out = rng.standard_normal(out_shape, dtype=np.float32)
    out *= np.float32(std)
    out += np.float32(mean)
    return (out,)


no_gradient("GaussianFill")
