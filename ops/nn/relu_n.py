"""ReluN (Y = min(max(X, 0), n)) and its gradient op ReluNGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import pointwise_cost, same_as_input

from ._activation import float_input, same_sizes

# Caffe2 enforced n > 0 when the op was created ("n > 0. <n> vs 0. ...").
_N = [Arg("n", float, 6.0, doc="the cap of the output (> 0)", check=lambda n: n > 0,
          check_message="n should be greater than 0", expected="n > 0")]


@register_cpu_operator(
    "ReluN",
    inputs=["X"],
    outputs=["Y"],
    args=_N,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=pointwise_cost(2),
    example=Example({"X": np.array([-1.0, 2.5, 8.0], np.float32)},
                    {"Y": np.array([0.0, 2.5, 6.0], np.float32)}),
    doc="""Capped rectified linear unit, element-wise: Y = min(max(X, 0), n), n
defaulting to 6 and required to be positive. Y has X's shape and type (float32 or
float64); in-place use is allowed.

Example: X=[-1, 2.5, 8] -> Y=[0, 2.5, 6]""",
)
def relu_n(x: np.ndarray, *, n: float) -> tuple:
    """Clip to [0, n] (NaN stays NaN)."""
    dtype = float_input(x)
    y = np.minimum(np.maximum(x, dtype.type(0)), dtype.type(n))
    return (np.asarray(y, dtype),)


@register_gradient("ReluN")
def relu_n_gradient_maker(g):
    """``ReluNGradient([Y, dY]) -> [X_grad]`` (n rides along)."""
    return [g.op_def("ReluNGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "ReluNGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_N,
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": np.array([0.0, 2.5, 6.0], np.float32),
                     "dY": np.array([1.0, 2.0, 3.0], np.float32)},
                    {"dX": np.array([0.0, 2.0, 0.0], np.float32)}),
    doc="""Gradient of ReluN from its output: dX = dY where 0 < Y < n, else 0. dY may
be overwritten in place.

Example: Y=[0, 2.5, 6], dY=[1, 2, 3] -> dX=[0, 2, 0]""",
)
def relu_n_gradient(y: np.ndarray, dy: np.ndarray, *, n: float) -> tuple:
    """dY masked by 0 < Y < n."""
    dtype = same_sizes(y, dy, "Y", "dY")
    inside = (y > 0) & (y < dtype.type(n))
    return (np.asarray(np.where(inside, dy, dtype.type(0)), dtype),)


gradient_not_implemented_yet("ReluNGradient")
