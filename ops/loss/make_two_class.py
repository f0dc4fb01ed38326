"""MakeTwoClass (probabilities p -> the pairs (1 - p, p)) and its gradient op
MakeTwoClassGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import enforce_cmp, float_tensor


@register_cpu_operator(
    "MakeTwoClass",
    inputs=["X"],
    outputs=["Y"],
    shape=lambda x: (TensorShape(None if x.dims is None else tuple(x.dims) + (2,), x.dtype),),
    example=Example({"X": np.array([0.25, 1], np.float32)},
                    {"Y": np.array([[0.75, 0.25], [0, 1]], np.float32)}),
    doc="""Turns probabilities into two-class distributions: Y[..., 0] = 1 - X and
Y[..., 1] = X, so Y has X's shape plus a last dimension of 2 (float32 or float64). X is
meant to hold values in [0, 1]; as in Caffe2's release builds this is not checked.

Example: X=[0.25, 1] -> Y=[[0.75, 0.25], [0, 1]]""",
)
def make_two_class(x: np.ndarray) -> tuple:
    """stack(1 - X, X) on a new last axis."""
    dtype = float_tensor(x, "X")
    return (np.stack([dtype.type(1) - x, x], axis=-1),)


@register_gradient("MakeTwoClass")
def make_two_class_gradient_maker(g):
    """``MakeTwoClassGradient([Y_grad]) -> [X_grad]``."""
    return [g.op_def("MakeTwoClassGradient", [g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "MakeTwoClassGradient",
    inputs=["dY"],
    outputs=["dX"],
    shape=lambda dy: (TensorShape(None if dy.dims is None else tuple(dy.dims[:-1]), dy.dtype),),
    example=Example({"dY": np.array([[1, 3], [2, 2]], np.float32)},
                    {"dX": np.array([2, 0], np.float32)}),
    doc="""Gradient of MakeTwoClass: dX = dY[..., 1] - dY[..., 0]; dY's last dimension
must be 2.

Example: dY=[[1, 3], [2, 2]] -> dX=[2, 0]""",
)
def make_two_class_gradient(dy: np.ndarray) -> tuple:
    """The difference of the two columns."""
    float_tensor(dy, "dY")
    enforce_cmp(dy.ndim >= 1, "shape.size() >= 1", dy.ndim, 1, blob="dY")
    enforce_cmp(dy.shape[-1] == 2, "shape.back() == 2", dy.shape[-1], 2, blob="dY")
    return (dy[..., 1] - dy[..., 0],)


gradient_not_implemented_yet("MakeTwoClassGradient")
