"""The kernel and shape function shared by Caffe2's binary comparison, logical and
bitwise ops (EQ ... GE, And/Or/Xor, BitwiseAnd/Or/Xor). Not an operator module:
nothing is registered here.

They are Caffe2's ``BinaryElementwiseOp`` with the broadcasting of Add (see
ops/math/_elementwise.py, whose rules and messages are reused): numpy style by
default, legacy ``broadcast=1`` with ``axis`` / ``axis_str`` / ``order``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.shapes import TensorShape, broadcast_shapes

from .._dense import dispatch
from ..math import _elementwise as ew

ARGS = ew.ARGS

BOOL = (np.dtype(np.bool_),)
INT_BOOL = (np.dtype(np.int32), np.dtype(np.int64), np.dtype(np.bool_))
COMPARABLE = (
    np.dtype(np.bool_),
    np.dtype(np.int32),
    np.dtype(np.int64),
    np.dtype(np.float32),
    np.dtype(np.float64),
)


def forward(
    ufunc: Callable,
    a: np.ndarray,
    b: np.ndarray,
    types: Sequence[np.dtype],
    out_dtype: np.dtype | None,
    broadcast: bool,
    axis: int,
    axis_str: str,
    order: str,
) -> tuple[np.ndarray]:
    """C = ufunc(A, B): A's type must be one of ``types`` and B's the same; C has
    ``out_dtype`` (or A's type) and the broadcast shape."""
    dtype = dispatch(a, "A", types)
    check_dtype(b, "B", dtype)
    a_dims, b_dims, c_shape = ew.operands(a, b, broadcast, axis, axis_str, order)
    out = np.empty(np.broadcast_shapes(a_dims, b_dims), dtype=out_dtype or dtype)
    ufunc(a.reshape(a_dims), b.reshape(b_dims), out=out)
    return (out.reshape(c_shape),)


def shape_function(out_dtype: np.dtype | None) -> Callable[..., tuple[TensorShape]]:
    """The output's shape (A's with ``broadcast=1``, else the numpy broadcast of A
    and B) and type (``out_dtype``, or A's type when None)."""

    def shape(a: TensorShape, b: TensorShape, *, broadcast: bool) -> tuple[TensorShape]:
        dims = a.dims if broadcast else broadcast_shapes(a.dims, b.dims)
        return (TensorShape(dims, out_dtype if out_dtype is not None else a.dtype),)

    return shape
