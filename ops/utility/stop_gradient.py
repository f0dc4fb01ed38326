"""StopGradient: the identity in the forward pass, a wall for gradients."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from caffe2lite.schema.registry import no_gradient, register_cpu_operator


@register_cpu_operator(
    "StopGradient",
    inputs=["input"],
    outputs=["output"],
    shape=same_as_input(0),
    example=Example(
        {"input": np.array([1.5, -2], np.float32)},
        {"output": np.array([1.5, -2], np.float32)},
    ),
    allow_inplace=[(0, 0)],
    doc="""StopGradient is a helper operator that does no actual numerical computation,
and in the gradient computation phase stops the gradient from being computed
through it. The output is the input, unchanged (any type and shape); use it in place
(output = input) so that the backward pass sees who reads it: an out-of-place
StopGradient whose output nobody reads is rejected when gradients are built.

Example: input=[1.5, -2] -> output=[1.5, -2]""",
)
def stop_gradient(x: np.ndarray) -> tuple:
    """The input itself (stored arrays are never written in place, so no copy)."""
    return (x,)


no_gradient("StopGradient")
