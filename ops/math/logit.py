"""Logit (Y = ln(X / (1 - X)) with X clamped to [eps, 1 - eps]) and its gradient op
LogitGradient."""

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

from .._dense import dims, dispatch, enforce_that, float_tensor

_EPS = [Arg("eps", float, 1e-6, doc="the clamp margin: X is first clamped to [eps, 1 - eps]")]


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "Logit",
    inputs=["X"],
    outputs=["Y"],
    args=_EPS,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": _f([0.5, 0.75, 0, 1])},
                    {"Y": _f([0, 1.0986123, -13.815511, 13.802318])}),
    doc="""Element-wise logit: Y = ln(p / (1 - p)) where p is X clamped to [eps, 1 - eps]
(``eps`` defaults to 1e-6), so 0 and 1 give finite values. Y has X's shape and type
(float32 or float64) and may overwrite X in place.""",
)
def logit(x: np.ndarray, *, eps: float) -> tuple:
    """ln(p / (1 - p)) of the clamped input."""
    dtype = dispatch(x, "X")
    t = dtype.type
    high = t(np.float32(1) - np.float32(eps))  # Caffe2 computed 1 - eps in float
    p = np.maximum(np.minimum(x, high), t(eps))
    with np.errstate(all="ignore"):
        return (np.asarray(np.log(p / (t(1) - p)), dtype),)


@register_gradient("Logit")
def logit_gradient_maker(g):
    """``LogitGradient([X, Y_grad]) -> [X_grad]`` (``eps`` comes with the forward
    arguments)."""
    return [g.op_def("LogitGradient", [g.I(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "LogitGradient",
    inputs=["X", "dY"],
    outputs=["dX"],
    args=_EPS,
    shape=same_as_input(0),
    example=Example({"X": _f([0.5, 0.75, 0, 1]), "dY": _f([1, 3, 5, 5])},
                    {"dX": _f([4, 16, 0, 0])}),
    doc="""Gradient of Logit: dX = dY / (X (1 - X)) where eps <= X <= 1 - eps, and 0 where
the forward op clamped X. X and dY have one shape and type (float32 or float64).""",
)
def logit_gradient(x: np.ndarray, dy: np.ndarray, *, eps: float) -> tuple:
    """dY / (X (1 - X)) inside the clamp range, 0 outside."""
    dtype = float_tensor(x, "X")  # Caffe2's LogitGradientOp<float> read X as float
    float_tensor(dy, "dY", dtype)
    if x.shape != dy.shape:
        enforce_that(False, "X.sizes() == dY.sizes()", blob="dY",
                     expected=f"X's shape {dims(x.shape)}", found=dims(dy.shape))
    eps32 = float(np.float32(eps))
    outside = (x < dtype.type(eps32)) | (x.astype(np.float64) > 1.0 - eps32)
    with np.errstate(all="ignore"):
        dx = dy / ((dtype.type(1) - x) * x)
    return (np.asarray(np.where(outside, dtype.type(0), dx), dtype),)


gradient_not_implemented_yet("LogitGradient")
