"""LpNorm (the sum of |x| or of x² over a whole tensor, optionally averaged) and its
gradient op LpNormGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import enforce_cmp, float_tensor

_ARGS = [
    Arg("p", int, 2, doc="1: sum of |x|; 2: sum of x² (no square root)",
        check=lambda p: p in (1, 2), check_message="p should be either 1 or 2.",
        expected="1 or 2"),
    Arg("average", bool, False, doc="divide by the number of elements"),
]

# Caffe2's dead zone for the sign of x in the L1 gradient.
_EPS = 1e-12


def _size(x: np.ndarray, average: bool) -> int:
    """The divisor: the element count when averaging (which must then be positive), 1
    otherwise."""
    size = x.size if average else 1
    enforce_cmp(size > 0, "size > 0", size, 0, blob="X")
    return size


@register_cpu_operator(
    "LpNorm",
    inputs=["X"],
    outputs=["Z"],
    args=_ARGS,
    shape=lambda x: (TensorShape((1,), x.dtype),),
    example=Example({"X": np.array([5, -2], np.float32)}, {"Z": np.array([29], np.float32)}),
    doc="""Lp "norm" of a whole tensor (float32 or float64, any shape), as Caffe2 defined
it: with ``p`` = 1, Z = sum(|x|); with ``p`` = 2, Z = sum(x²) (the squared L2 norm, no
square root). With ``average``, Z is divided by the number of elements (an empty X is
then an error). Z has shape (1,). ``p`` must be 1 or 2.

Example: X=[5, -2] -> Z=[29]""",
)
def lp_norm(x: np.ndarray, *, p: int, average: bool) -> tuple:
    """sum(|x|^p) / size."""
    dtype = float_tensor(x, "X")
    size = _size(x, average)
    flat = x.reshape(-1)
    total = np.abs(flat).sum(dtype=dtype) if p == 1 else np.dot(flat, flat)
    return (np.array([total / dtype.type(size)], dtype),)


@register_gradient("LpNorm")
def lp_norm_gradient_maker(g):
    """``LpNormGradient([X, Z_grad]) -> [X_grad]``."""
    return [g.op_def("LpNormGradient", [g.I(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "LpNormGradient",
    inputs=["X", "dout"],
    outputs=["dx"],
    args=_ARGS,
    shape=lambda x, dout: (x,),
    example=Example({"X": np.array([5, -2, 0], np.float32), "dout": np.array([2], np.float32)},
                    {"dx": np.array([2, -2, 0], np.float32)}, args={"p": 1}),
    doc="""Gradient of LpNorm: with ``p`` = 1, dx = sign(x)·dout (0 where |x| <= 1e-12);
with ``p`` = 2, dx = 2·x·dout; divided by the element count with ``average``. dout
must have shape (1,).

Example: X=[5, -2, 0], dout=[2] with p=1 -> dx=[2, -2, 0]""",
)
def lp_norm_gradient(x: np.ndarray, dout: np.ndarray, *, p: int, average: bool) -> tuple:
    """sign(x) or 2x, times dout / size."""
    dtype = float_tensor(x, "X")
    float_tensor(dout, "dout", dtype)
    enforce_cmp(dout.ndim == 1, "dnorm.dim() == 1", dout.ndim, 1, blob="dout")
    enforce_cmp(dout.shape[0] == 1, "dnorm.dim32(0) == 1", dout.shape[0], 1, blob="dout")
    size = x.size if average else 1
    factor = dout[0] / dtype.type(size) if size else dtype.type(0)
    if p == 1:
        sign = (x > _EPS).astype(dtype) - (x < -_EPS).astype(dtype)
        return (sign * factor,)
    return (x * dtype.type(2) * factor,)


gradient_not_implemented_yet("LpNormGradient")
