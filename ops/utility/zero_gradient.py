"""ZeroGradient: no outputs; in the backward pass its input gets a zero gradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient


@register_cpu_operator(
    "ZeroGradient",
    inputs=["input"],
    outputs=[],
    shape=lambda x: (),
    example=Example({"input": np.array([1, 2], np.int64)}, {}),
    doc="""ZeroGradient operators doesn't produce any output blobs. One can use this
operator to produce 0 gradient for the input blob: the backward pass always calls
its gradient maker (even though it has no outputs), which emits
``ConstantFill([input]) -> [input_grad]`` with value 0.0.

Example: input=[1, 2] -> (no outputs); backward: input_grad=[0, 0]""",
)
def zero_gradient(x: np.ndarray) -> tuple:
    """Nothing to compute."""
    return ()


@register_gradient("ZeroGradient")
def zero_gradient_gradient(g):
    """``ConstantFill([input]) -> [input_grad]`` filled with 0.0."""
    return [g.op_def("ConstantFill", [g.I(0)], [g.GI(0)], value=0.0)]
