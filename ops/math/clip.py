"""Clip (Y = X limited to [min, max]) and its gradient op ClipGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import enforce_cmp, float_tensor

_LOWEST = float(np.finfo(np.float32).min)  # C++ numeric_limits<float>::lowest()
_HIGHEST = float(np.finfo(np.float32).max)  # numeric_limits<float>::max()

_ARGS = [
    Arg("min", float, _LOWEST, doc="elements below it become min (default: the lowest float)"),
    Arg("max", float, _HIGHEST, doc="elements above it become max (default: the largest float)"),
]


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "Clip",
    inputs=["X"],
    outputs=["Y"],
    args=_ARGS,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": _f([-3, 0.5, 7, 2])}, {"Y": _f([-1, 0.5, 2, 2])},
                    {"min": -1.0, "max": 2.0}),
    doc="""Limit every element of X to the interval [min, max]: Y = min(max(X, min), max).
Either bound may be left out: they default, as in Caffe2, to the lowest and the
largest float (so infinities become those, also for float64 data). NaN stays NaN. Y
has X's shape and type (float32 or float64) and may overwrite X in place.""",
)
def clip(x: np.ndarray, *, min: float, max: float) -> tuple:
    """X clamped to [min, max]; the lower bound is applied first."""
    dtype = float_tensor(x, "X")  # Caffe2's ClipOp<float> read X as float directly
    return (np.asarray(np.minimum(np.maximum(x, dtype.type(min)), dtype.type(max)), dtype),)


@register_gradient("Clip")
def clip_gradient_maker(g):
    """``ClipGradient([Y, Y_grad]) -> [X_grad]``: the gradient reads the forward
    output (``min`` and ``max`` come with the forward arguments)."""
    return [g.op_def("ClipGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "ClipGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    args=_ARGS,
    allow_inplace=[(1, 0)],
    shape=same_as_input(0),
    example=Example({"Y": _f([-1, 0.5, 2, 2]), "dY": _f([1, 2, 3, 4])},
                    {"dX": _f([0, 2, 0, 0])}, {"min": -1.0, "max": 2.0}),
    doc="""Gradient of Clip from its output: dX = dY where min < Y < max (strictly), else 0
(so also 0 where an infinity was clipped to a default bound).
dX has Y's shape; dY must hold as many elements as Y (read in order). dY may be
overwritten in place.""",
)
def clip_gradient(y: np.ndarray, dy: np.ndarray, *, min: float, max: float) -> tuple:
    """dY masked by min < Y < max."""
    dtype = float_tensor(y, "Y")
    float_tensor(dy, "dY", dtype)
    enforce_cmp(dy.size == y.size, "dY.numel() == Y.numel()", dy.size, y.size, blob="dY")
    inside = (y > dtype.type(min)) & (y < dtype.type(max))
    return (np.where(inside, dy.reshape(y.shape), dtype.type(0)),)


gradient_not_implemented_yet("ClipGradient")
