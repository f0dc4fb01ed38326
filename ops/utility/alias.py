"""Alias: the output is the input itself (no copy)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from .._dense import tensor


@register_cpu_operator(
    "Alias",
    inputs=["input"],
    outputs=["output"],
    shape=same_as_input(0),
    example=Example(
        {"input": np.array([[1, 2], [3, 4]], np.int64)},
        {"output": np.array([[1, 2], [3, 4]], np.int64)},
    ),
    doc="""Make the output blob refer to the input tensor, without copying it. Since
stored arrays are never written in place, the two blobs behave as one value.

Example: input=[[1, 2], [3, 4]] -> output=[[1, 2], [3, 4]]""",
)
def alias(x: np.ndarray) -> tuple:
    """The input array, unchanged."""
    return (tensor(x, "input"),)


@register_gradient("Alias")
def alias_gradient_maker(g):
    """No ops: the output gradient passes straight to the input (SetDense)."""
    g.SetDense(0, g.GO(0))
    return []
