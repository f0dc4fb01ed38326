"""PRelu (a leaky Relu whose negative slope is learned, per channel or shared) and
its gradient op PReluGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape, same_as_input

from .._dense import dim_from_order, dims, enforce_cmp, enforce_that, float_tensor
from ._activation import float_input

_ORDER = [Arg("order", str, "NCHW", doc="where the channel axis is: NCHW 1, NHWC last")]


def _slopes(x: np.ndarray, w: np.ndarray, order: str) -> np.ndarray:
    """The slope of every element of X, broadcastable against X."""
    channel_last = dim_from_order(order) == 3
    if x.ndim == 0:
        raise ShapeError("Dimension specified as -1 but tensor has no dimensions" if
                         channel_last else "Dimension specified as 1 but tensor has no "
                         "dimensions", blob="X", expected="a tensor with a channel axis",
                         found="a 0-D tensor")
    if not channel_last and x.ndim < 2:
        raise ShapeError("Dimension out of range (expected to be in range of [-1, 0], but "
                         "got 1)", blob="X", expected="at least 2-D (N, C, ...) for NCHW",
                         found=f"shape {dims(x.shape)}")
    c = x.shape[-1] if channel_last else x.shape[1]
    flat = w.reshape(-1)
    if flat.size == 1:
        return flat[0]
    enforce_cmp(c == flat.size, "C == W.numel()", c, flat.size, blob="Slope")
    if channel_last:
        return flat
    return flat.reshape((c,) + (1,) * (x.ndim - 2))


@register_cpu_operator(
    "PRelu",
    inputs=["X", "Slope"],
    outputs=["Y"],
    args=_ORDER,
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    example=Example({"X": np.array([[[-2.0, 1.0], [3.0, -4.0]]], np.float32),
                     "Slope": np.array([0.5, 0.25], np.float32)},
                    {"Y": np.array([[[-1.0, 1.0], [3.0, -1.0]]], np.float32)}),
    doc="""Parametric Relu: Y = X where X > 0, Slope[c] * X elsewhere, c being the
element's channel (axis 1 for order NCHW, the last axis for NHWC). A Slope of one
element is shared by every channel; otherwise it has one element per channel. Y has
X's shape and type (float32 or float64); in-place use is allowed.

Example: X=[[[-2, 1], [3, -4]]] (NCHW, 2 channels), Slope=[0.5, 0.25] ->
Y=[[[-1, 1], [3, -1]]]""",
)
def prelu(x: np.ndarray, w: np.ndarray, *, order: str) -> tuple:
    """X scaled by its channel's slope where X <= 0."""
    dtype = float_input(x)
    float_tensor(w, "Slope", dtype)
    slope = _slopes(x, w, order)
    return (np.asarray(np.where(x > 0, x, x * slope), dtype),)


@register_gradient("PRelu")
def prelu_gradient_maker(g):
    """``PReluGradient([Y, dY, X, Slope]) -> [X_grad, Slope_grad]``."""
    return [g.op_def("PReluGradient", [g.O(0), g.GO(0), g.I(0), g.I(1)],
                     [g.GI(0), g.GI(1)])]


def _gradient_shape(y: TensorShape, dy: TensorShape, x: TensorShape,
                    w: TensorShape) -> tuple[TensorShape, TensorShape]:
    return (y, w)


@register_cpu_operator(
    "PReluGradient",
    inputs=["Y", "dY", "X", "Slope"],
    outputs=["dX", "dSlope"],
    args=_ORDER,
    shape=_gradient_shape,
    example=Example({"Y": np.array([[-1.0, 1.0], [3.0, -1.0]], np.float32),
                     "dY": np.array([[1.0, 1.0], [2.0, 2.0]], np.float32),
                     "X": np.array([[-2.0, 1.0], [3.0, -4.0]], np.float32),
                     "Slope": np.array([0.5, 0.25], np.float32)},
                    {"dX": np.array([[0.5, 1.0], [2.0, 0.5]], np.float32),
                     "dSlope": np.array([-2.0, -8.0], np.float32)}),
    doc="""Gradient of PRelu: dX = dY where X > 0 and Slope[c] * dY elsewhere; dSlope[c]
sums dY * X over the elements of channel c with X <= 0 (everything into the one
element of a shared Slope). Y must not be X: "Cannot backpropagate through an
in-place PReLU".

Example: Y=[[-1, 1], [3, -1]], dY=[[1, 1], [2, 2]], X=[[-2, 1], [3, -4]],
Slope=[0.5, 0.25] -> dX=[[0.5, 1], [2, 0.5]], dSlope=[-2, -8]""",
)
def prelu_gradient(y: np.ndarray, dy: np.ndarray, x: np.ndarray, w: np.ndarray, *,
                   order: str, op_def=None) -> tuple:
    """Both gradients, the slope's summed per channel."""
    if op_def is not None and len(op_def.input) > 2 and op_def.input[0] == op_def.input[2]:
        raise EnforceError("Cannot backpropagate through an in-place PReLU", blob="Y",
                           expected="Y and X in different blobs", found=op_def.input[0])
    dtype = float_input(y, "Y")
    for value, name in ((dy, "dY"), (x, "X"), (w, "Slope")):
        float_tensor(value, name, dtype)
    for value, name in ((dy, "dY"), (x, "X")):
        enforce_that(value.shape == y.shape, f"Y.sizes() == {name}.sizes()", blob=name,
                     expected=f"Y's shape {dims(y.shape)}", found=dims(value.shape))
    slope = _slopes(x, w, order)
    positive = x > 0
    dx = np.where(positive, dy, dy * slope)
    contrib = np.where(positive, dtype.type(0), dy * x)
    if w.size == 1:
        dw = np.full(w.shape, contrib.sum(dtype=dtype), dtype)
    elif dim_from_order(order) == 3:
        dw = contrib.reshape(-1, w.size).sum(axis=0, dtype=dtype).reshape(w.shape)
    else:
        dw = np.moveaxis(contrib, 1, 0).reshape(w.size, -1).sum(axis=1, dtype=dtype)
        dw = dw.reshape(w.shape)
    return (np.asarray(dx, dtype), dw)


gradient_not_implemented_yet("PReluGradient")
