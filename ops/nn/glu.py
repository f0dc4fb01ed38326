"""Glu: the gated linear unit, the first half of X along ``dim`` times the sigmoid of
the second half."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import FLOATS, dims


def _split_axis(ndim: int, dim: int) -> int:
    """Caffe2's split index: the last axis for dim = -1, else dim itself (other values
    read past the shape in Caffe2; an error here)."""
    axis = ndim - 1 if dim == -1 else dim
    if not 0 <= axis < ndim:
        raise EnforceError("Glu's dim is not an axis of X (Caffe2 read past its shape)",
                           arg="dim", expected=f"-1 or 0 <= dim < {ndim}", found=dim)
    return axis


def _shape(x: TensorShape, *, dim: int) -> tuple[TensorShape]:
    """X's shape with the split axis halved (Caffe2 declared no inference function)."""
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    axis = _split_axis(len(x.dims), dim)
    d = x.dims[axis]
    half = d // 2 if isinstance(d, int) else f"{d}/2"
    return (TensorShape(x.dims[:axis] + (half,) + x.dims[axis + 1:], x.dtype),)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Caffe2's two-sided sigmoid: 1 / (1 + exp(-z)) for z >= 0, exp(z) / (1 + exp(z))
    below (in double, rounded to the data's type)."""
    z = z.astype(np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@register_cpu_operator(
    "Glu",
    inputs=["X"],
    outputs=["Y"],
    args=[Arg("dim", int, -1, doc="the axis to split in half (-1: the last)")],
    shape=_shape,
    example=Example({"X": np.array([[1.0, -2.0, 0.0, 2.0]], np.float32)},
                    {"Y": np.array([[0.5, -1.7615942]], np.float32)}),
    doc="""Gated linear unit: X (float32 as in Caffe2; float64 too) is split in two
equal halves A, B along ``dim`` (-1, the default, is the last axis; other negative
values are errors here), and Y = A * sigmoid(B), of X's shape with that axis halved.
An odd axis length is an error. Caffe2 registered no gradient for Glu.

Example: X=[[1, -2, 0, 2]] -> Y=[[1 * sigmoid(0), -2 * sigmoid(2)]]
= [[0.5, -1.761594]]""",
)
def glu(x: np.ndarray, *, dim: int) -> tuple:
    """A * sigmoid(B) for the two halves of the split axis."""
    check_dtype(x, "X", *FLOATS)
    axis = _split_axis(x.ndim, dim)
    if x.shape[axis] % 2:
        raise EnforceError(f"Split dimension {x.shape[axis]} should be divided by two",
                           blob="X", expected="an even length", found=dims(x.shape))
    a, b = np.split(x, 2, axis=axis)
    return (np.asarray(a * _sigmoid(b).astype(x.dtype), x.dtype),)


gradient_not_implemented_yet("Glu")
