"""Scale (Y = scale * X); its gradient is another Scale op."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import same_as_input
from .._dense import dispatch


@register_cpu_operator(
    "Scale",
    inputs=["X"],
    outputs=["Y"],
    args=[Arg("scale", float, 1.0, doc="the factor every element is multiplied by")],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example(
        {"X": np.array([1, -2, 3], np.float32)},
        {"Y": np.array([2, -4, 6], np.float32)},
        {"scale": 2.0},
    ),
    doc="""Multiply every element of X by the float argument ``scale``; Y has X's shape
and type (float32 or float64). In-place use is allowed.

Example: X=[1, -2, 3], scale=2 -> Y=[2, -4, 6]""",
)
def scale(x: np.ndarray, *, scale: float) -> tuple:
    """scale * X, computed in X's type."""
    dtype = dispatch(x, "X")
    return (np.multiply(x, dtype.type(scale), out=np.empty_like(x)),)


@register_gradient("Scale")
def scale_gradient_maker(g):
    """``Scale([Y_grad]) -> [X_grad]``; ``scale`` reaches it with the forward
    arguments, which the backward pass copies onto every gradient op."""
    return [g.op_def("Scale", [g.GO(0)], [g.GI(0)])]
