"""XavierFill: float32 samples of U[-s, s) with s = sqrt(3 / fan_in)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator

from ._fill_common import fan, uniform_floats
from ._filler import SHAPE_ARGS, filler_shape, filler_shape_function


@register_cpu_operator(
    "XavierFill",
    inputs=["input"],
    outputs=["output"],
    num_inputs=(0, 1),
    allow_inplace=[(0, 0)],
    args=SHAPE_ARGS,
    shape=filler_shape_function(lambda kw: np.dtype(np.float32)),
    example=Example(
        {}, {"output": np.zeros((3, 3), np.float32)}, {"shape": [3, 3]}, exact=False
    ),
    doc="""Fill a float32 tensor with Xavier (Glorot) initial weights: samples of the
uniform distribution on [-scale, scale) with scale = sqrt(3 / fan_in), where
fan_in = size / shape[0] (integer division). The shape is the ``shape`` argument
without an input, or the input's shape (its int64 values with ``input_as_shape``)
followed by ``extra_shape``. The output needs at least one dimension and a non-zero
first dimension (Caffe2 divided by it; here that is an error). Random draws come from
the operator's generator, seeded by ``device_option.random_seed``.

Example: shape=[3, 3] -> output of shape (3, 3) with values in [-1, 1), e.g.
[[-0.84, 0.33, -0.88], [0.43, -0.83, 0.08], [0.93, -0.25, -0.40]]""",
)
def xavier_fill(
    *inputs: np.ndarray,
    shape: Any,
    extra_shape: list[int],
    input_as_shape: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray]:
    """U[-sqrt(3 / fan_in), sqrt(3 / fan_in)) float32 samples of the filler shape."""
    out_shape = filler_shape(inputs, shape, extra_shape, input_as_shape)
    fan_in = fan(out_shape, 0, "XavierFill", "fan_in")
    if fan_in == 0:  # no elements: nothing to draw (the scale would be infinite)
        return (np.empty(out_shape, dtype=np.float32),)
    scale = np.sqrt(np.float32(3) / np.float32(fan_in))
    return (uniform_floats(rng, out_shape, -scale, scale),)


no_gradient("XavierFill")
