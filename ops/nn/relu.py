"""Relu (Y = max(X, 0)) and its gradient op ReluGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import pointwise_cost, same_as_input
from .._dense import dispatch, dims, enforce_that, float_tensor


_ZEROS = {np.dtype(np.float32): np.float32(0), np.dtype(np.float64): np.float64(0)}
# Bit masks of the gradient: the float's bits kept where Y > 0, zero elsewhere.
_BITS = {np.dtype(np.float32): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.int64)}

# numpy's maximum against a scalar (a zero-stride operand) runs about three times
# slower than against an array of the same shape, so Relu compares with a view of a
# shared read-only zero buffer (one per dtype, grown to the largest input seen up to
# _ZERO_BUFFER_MAX elements; tiny and larger inputs use the scalar).
_ZERO_BUFFER_MIN, _ZERO_BUFFER_MAX = 1024, 1 << 22
_zero_buffers: dict = {}


def _zeros_shaped_like(x: np.ndarray) -> np.ndarray:
    n = x.size
    buf = _zero_buffers.get(x.dtype)
    if buf is None or buf.size < n:
        buf = np.zeros(n, x.dtype)
        buf.flags.writeable = False
        _zero_buffers[x.dtype] = buf
    return buf[:n].reshape(x.shape)


@register_cpu_operator(
    "Relu",
    inputs=["X"],
    outputs=["Y"],
    allow_inplace=[(0, 0)],
    shape=same_as_input(0),
    cost=pointwise_cost(1),
    example=Example({"X": np.array([-1.5, 0, 2], np.float32)},
                    {"Y": np.array([0, 0, 2], np.float32)}),
    doc="""Rectified linear unit, element-wise: Y = max(X, 0), same shape and type as X
(float32 or float64). In-place use (Y = X) is allowed.

Example: X=[-1.5, 0, 2] -> Y=[0, 0, 2]""",
)
def relu(x: np.ndarray) -> tuple:
    """max(X, 0) element-wise (NaN stays NaN)."""
    zero = _ZEROS.get(getattr(x, "dtype", None))
    if zero is None or type(x) is not np.ndarray:
        dispatch(x, "X")  # raises Caffe2's message for a non-float tensor
    if _ZERO_BUFFER_MIN <= x.size <= _ZERO_BUFFER_MAX and x.flags.c_contiguous:
        return (np.maximum(x, _zeros_shaped_like(x)),)
    y = np.maximum(x, zero)
    return (y if x.ndim else np.asarray(y),)


@register_gradient("Relu")
def relu_gradient_maker(g):
    """``ReluGradient([Y, dY]) -> [X_grad]``: the gradient reads the forward output."""
    return [g.op_def("ReluGradient", [g.O(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "ReluGradient",
    inputs=["Y", "dY"],
    outputs=["dX"],
    allow_inplace=[(1, 0)],
    shape=same_as_input(1),
    example=Example({"Y": np.array([0, 0, 2], np.float32), "dY": np.array([5, 6, 7], np.float32)},
                    {"dX": np.array([0, 0, 7], np.float32)}),
    doc="""Gradient of Relu from its output: dX = dY where Y > 0, else 0. dY may be
overwritten in place (dX = dY).

Example: Y=[0, 0, 2], dY=[5, 6, 7] -> dX=[0, 0, 7]""",
)
def relu_gradient(y: np.ndarray, dy: np.ndarray) -> tuple:
    """dY masked by Y > 0."""
    dtype = dispatch(y, "Y")
    float_tensor(dy, "dY", dtype)
    if y.shape != dy.shape:
        enforce_that(False, "Y.sizes() == dY.sizes()", blob="dY",
                     expected=f"Y's shape {dims(y.shape)}", found=dims(dy.shape))
    if not y.ndim:
        return (np.where(y > 0, dy, dtype.type(0)),)
    # np.where(Y > 0, dY, 0) with a branch-free select: dY's bits AND a mask of all
    # ones where Y > 0 (all zeros, so +0.0, elsewhere); the same bits, several times
    # faster than np.where on unpredictable signs.
    bits = _BITS[dtype]
    mask = (y > 0).view(np.int8).astype(bits)
    np.negative(mask, out=mask)
    dx = np.empty(dy.shape, dtype)
    np.bitwise_and(dy.view(bits), mask, out=dx.view(bits))
    return (dx,)


gradient_not_implemented_yet("ReluGradient")
