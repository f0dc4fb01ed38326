"""MSRAFill: float32 samples of N(0, 2 / fan_out) (He initialisation)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._fill_common import fan
from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function


@register_cpu_operator(
    "MSRAFill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: np.dtype(np.float32)),
    example=Example(
        {}, {"output": np.zeros((4, 2), np.float32)}, {"shape": [4, 2]}, exact=False
    ),
    doc="""Fill a float32 tensor with MSRA (He) initial weights: samples of the normal
distribution with mean 0 and standard deviation sqrt(2 / fan_out), where
fan_out = size / shape[1] (integer division, as Caffe2 computed it). The shape is the
``shape`` argument without an input, or the input's shape (its int64 values with
``input_as_shape``) followed by ``extra_shape``. The output needs at least two
dimensions and a non-zero second dimension (Caffe2 divided by it; here that is an
error). Random draws come from the operator's generator, seeded by
``device_option.random_seed``.

Example: shape=[4, 2] -> output of shape (4, 2), normal with std sqrt(2 / 4) = 0.71,
e.g. [[0.52, -1.10], [0.07, 0.81], [-0.33, 0.95], [1.21, -0.46]]""",
)
def msra_fill(
    *inputs: np.ndarray,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray]:
    """N(0, 2 / fan_out) float32 samples of the filler shape."""
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    fan_out = fan(out_shape, 1, "MSRAFill", "fan_out")
    if fan_out == 0:  # no elements: nothing to draw (the scale would be infinite)
        return (np.empty(out_shape, dtype=np.float32),)
    out = rng.standard_normal(out_shape, dtype=np.float32)
    out *= np.sqrt(np.float32(2) / np.float32(fan_out))
    return (out,)


no_gradient("MSRAFill")
