"""Gelu (Y = X * P(N(0, 1) <= X), or its tanh approximation with ``fast_gelu``) and
its gradient op GeluGradient."""

from __future__ import annotations

import math

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

_FAST = [Arg("fast_gelu", bool, False,
             doc="use y = 0.5x * (1 + tanh(sqrt(2/pi) * (x + 0.044715x^3)))")]
_ALPHA = math.sqrt(2.0 / math.pi)
_COEFF = 0.044715
_SERIES_TERMS = 40  # erf series: terms below 1e-17 of the sum for |t| < 1.5
_FRACTION_TERMS = 400  # erfc continued fraction: converged to double for t >= 1.5


def _erfc(z: np.ndarray) -> np.ndarray:
    """erfc in float64, element-wise, within 1e-13 relative (numpy has no erf): a series
    with positive terms for erf(|z|) below 1.5, a continued fraction beyond."""
    t = np.abs(z)
    small = t < 1.5
    out = np.empty_like(t)
    ts = t[small]
    if ts.size:
        two_t2 = 2.0 * ts * ts
        term = np.ones_like(ts)
        total = np.ones_like(ts)
        for n in range(1, _SERIES_TERMS):
            term = term * two_t2 / (2 * n + 1)
            total += term
        out[small] = 1.0 - 2.0 / math.sqrt(math.pi) * ts * np.exp(-ts * ts) * total
    tl = t[~small]
    if tl.size:
        frac = tl.copy()
        for k in range(_FRACTION_TERMS, 0, -1):
            frac = tl + (k / 2.0) / frac
        with np.errstate(under="ignore"):
            out[~small] = np.exp(-tl * tl) / (math.sqrt(math.pi) * frac)
    return np.where(z < 0, 2.0 - out, out)


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """P(N(0, 1) <= x) in float64."""
    return 0.5 * _erfc(-np.asarray(x, np.float64) / math.sqrt(2.0))


@register_cpu_operator(
    "Gelu",
    inputs=["X"],
    outputs=["Y"],
    args=_FAST,
    shape=same_as_input(0),
    cost=pointwise_cost(2),
    example=Example({"X": np.array([-1.0, 0.0, 1.0, 2.0], np.float32)},
                    {"Y": np.array([-0.15865526, 0.0, 0.8413448, 1.9544997], np.float32)}),
    doc="""Gaussian error linear unit, element-wise: Y = X * P(N(0, 1) <= X), or with
``fast_gelu`` the approximation Y = 0.5 X (1 + tanh(sqrt(2/pi) (X + 0.044715 X^3))).
Y has X's shape and type (float32 or float64). Not in place.

Example: X=[-1, 0, 1, 2] -> Y=[-0.158655, 0, 0.841345, 1.9545]""",
)
def gelu(x: np.ndarray, *, fast_gelu: bool) -> tuple:
    """The exact CDF form in double precision, or the tanh form in X's type."""
    dtype = float_input(x)
    if fast_gelu:
        with np.errstate(over="ignore", invalid="ignore"):
            inner = (x + x * x * x * dtype.type(_COEFF)) * dtype.type(_ALPHA)
            y = x * (np.tanh(inner) + dtype.type(1)) * dtype.type(0.5)
    else:
        y = x * normal_cdf(x)
    return (np.asarray(y, dtype),)


@register_gradient("Gelu")
def gelu_gradient_maker(g):
    """``GeluGradient([dY, X]) -> [X_grad]``: the gradient reads the forward input."""
    return [g.op_def("GeluGradient", [g.GO(0), g.I(0)], [g.GI(0)])]


@register_cpu_operator(
    "GeluGradient",
    inputs=["dY", "X"],
    outputs=["dX"],
    args=_FAST,
    shape=same_as_input(0),
    example=Example({"dY": np.array([1.0, 2.0], np.float32),
                     "X": np.array([0.0, 1.0], np.float32)},
                    {"dX": np.array([0.5, 2.166631], np.float32)}),
    doc="""Gradient of Gelu from its input: dX = dY * (P(N(0, 1) <= X) + X * pdf(X)),
or the derivative of the tanh form with ``fast_gelu``. dY and X have one shape and
type.

Example: dY=[1, 2], X=[0, 1] -> dX=[0.5, 2.166631]""",
)
def gelu_gradient(dy: np.ndarray, x: np.ndarray, *, fast_gelu: bool) -> tuple:
    """dY times the derivative of the chosen form at X."""
    dtype = same_sizes(dy, x, "dY", "X")
    if fast_gelu:
        a, c = dtype.type(_ALPHA), dtype.type(_COEFF)
        with np.errstate(over="ignore", invalid="ignore"):
            t = np.tanh((x + x * x * x * c) * a)
            slope = (a * c * 3) * x * x + a
            dx = (1 + t + x * (1 - t * t) * slope) * dy * dtype.type(0.5)
    else:
        xd = np.asarray(x, np.float64)
        pdf = np.exp(-0.5 * xd * xd) / math.sqrt(2.0 * math.pi)
        dx = (normal_cdf(xd) + xd * pdf) * dy
    return (np.asarray(dx, dtype),)


gradient_not_implemented_yet("GeluGradient")
