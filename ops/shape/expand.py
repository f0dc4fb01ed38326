"""Expand (broadcast a tensor to a shape given as data, numpy-style) and its gradient
op ExpandGradient (the sum back over the broadcast axes)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import NUMERIC, dims, dispatch

MAX_ELEMENTS = 2**31 - 1  # the output size comes from data: checked before allocating


def _expanded_dims(x_shape: tuple, shape: list[int]) -> tuple:
    """Caffe2's right-aligned rule: a requested size of 0 or below (PyTorch's -1) keeps
    X's size; two sizes must agree unless one is 1; the larger wins."""
    out = []
    for k in range(1, max(len(shape), len(x_shape)) + 1):
        sx = x_shape[-k] if k <= len(x_shape) else 1
        sy = shape[-k] if k <= len(shape) and shape[-k] > 0 else 1
        if not (sx == 1 or sy == 1 or sx == sy):
            raise EnforceError("Dimensions format invalid.", blob="shape",
                               expected=f"{sx} or 1 at position {-k}",
                               found=f"shape {list(shape)} for X of shape {dims(x_shape)}")
        out.append(max(sx, sy))
    return tuple(reversed(out))


def _expand_shape(x: TensorShape, shape: TensorShape) -> tuple[TensorShape]:
    """Y's rank is max(len(shape), X's rank); a size is X's where X's is known and not 1,
    a symbol where the shape data decide (Caffe2 declared no inference function)."""
    if x.dims is None or shape.dims is None or not isinstance(shape.dims[0], int):
        return (TensorShape(None, x.dtype),)
    rank = max(shape.dims[0], len(x.dims))
    out = []
    for i in range(rank):
        j = i - (rank - len(x.dims))
        d = x.dims[j] if j >= 0 else 1
        out.append(d if isinstance(d, int) and d != 1 else f"expand[{i}]")
    return (TensorShape(tuple(out), x.dtype),)


@register_cpu_operator(
    "Expand",
    inputs=["X", "shape"],
    outputs=["Y"],
    shape=_expand_shape,
    example=Example({"X": np.array([[1], [2], [3]], np.float32),
                     "shape": np.array([1, 4], np.int64)},
                    {"Y": np.array([[1] * 4, [2] * 4, [3] * 4], np.float32)}),
    doc="""Y = X broadcast to ``shape`` (a 1-D int64 tensor), like numpy's
X * ones(shape): sizes are aligned from the right, a size may grow only from 1, and a
requested size of 0 or below (-1) keeps X's size. X is int32, int64, float32 or
float64; Y has its type. Broadcasting an empty X to a non-empty Y is an error here
(Caffe2 read past X).

Example: X=[[1], [2], [3]], shape=[1, 4] ->
Y=[[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]]""",
)
def expand(x: np.ndarray, shape: np.ndarray) -> tuple:
    """np.broadcast_to with Caffe2's rule for the target shape."""
    dispatch(x, "X", NUMERIC)
    check_dtype(shape, "shape", np.int64)
    out = _expanded_dims(x.shape, [int(v) for v in shape.reshape(-1)])
    total = int(np.prod(out, dtype=object))
    if total > MAX_ELEMENTS:
        raise EnforceError("Expand's output is too large", blob="shape",
                           expected=f"at most {MAX_ELEMENTS} elements", found=dims(out))
    if x.size == 0 and total > 0:
        raise EnforceError("cannot expand an empty X to a non-empty shape (Caffe2 read "
                           "past X)", blob="X", expected="a non-empty X",
                           found=f"X of shape {dims(x.shape)} to {dims(out)}")
    return (np.array(np.broadcast_to(x, out)),)


@register_gradient("Expand")
def expand_gradient_maker(g):
    """``ExpandGradient([Y_grad, X]) -> [X_grad]``; the shape input gets none."""
    return [g.op_def("ExpandGradient", [g.GO(0), g.I(0)], [g.GI(0)])]


@register_cpu_operator(
    "ExpandGradient",
    inputs=["dY", "X"],
    outputs=["dX"],
    shape=lambda dy, x: (TensorShape(x.dims, dy.dtype),),
    example=Example({"dY": np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.float32),
                     "X": np.zeros((2, 1), np.float32)},
                    {"dX": np.array([[10], [26]], np.float32)}),
    doc="""Gradient of Expand: dY summed over the axes Expand added (the leading ones)
and over those where X's size is 1, giving dX of X's shape and dY's type.

Example: dY=[[1, 2, 3, 4], [5, 6, 7, 8]], X of shape (2, 1) -> dX=[[10], [26]]""",
)
def expand_gradient(dy: np.ndarray, x: np.ndarray) -> tuple:
    """The sum of dY over the broadcast axes, reshaped to X."""
    dtype = dispatch(dy, "dY", NUMERIC)
    offset = dy.ndim - x.ndim
    if offset < 0 or any(d not in (1, dy.shape[offset + i]) for i, d in enumerate(x.shape)):
        raise EnforceError("dY is not X broadcast (Caffe2 read it as if it were)", blob="dY",
                           expected=f"X's shape {dims(x.shape)} broadcast",
                           found=dims(dy.shape))
    axes = tuple(i for i in range(dy.ndim) if i < offset or x.shape[i - offset] == 1)
    return (np.asarray(dy.sum(axis=axes, dtype=dtype), dtype).reshape(x.shape),)


gradient_not_implemented_yet("ExpandGradient")
