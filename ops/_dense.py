"""Checks shared by the dense operators (FC, Softmax, Concat, the binary element-wise
ops ...), with Caffe2's messages. Not an operator module: nothing is registered here.

Caffe2 printed a failed ``CAFFE_ENFORCE_EQ(a, b, msg)`` as ``"a == b. 2 vs 3. msg"``
(after the file:line location); :func:`enforce_cmp` builds the same text.
"""

from __future__ import annotations

from math import prod
from typing import Any, Sequence

import numpy as np

from caffe2lite.schema.checks import check_dtype, cpp_type_name
from caffe2lite.errors import DTypeError, EnforceError, ShapeError

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
NUMERIC = (np.dtype(np.int32), np.dtype(np.int64)) + FLOATS


def dims(shape: Sequence[int]) -> str:
    """Caffe2's way of printing a shape: ``(2, 3)`` -> ``"[2, 3]"``."""
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def enforce_cmp(ok: Any, expr: str, lhs: Any, rhs: Any, message: str = "", *,
                blob: str | None = None, error: type[EnforceError] = ShapeError) -> None:
    """Raise ``error("expr. lhs vs rhs. message")`` unless ``ok`` holds.

    >>> enforce_cmp(2 == 3, "X.dim() == Y.dim()", 2, 3)
    Traceback (most recent call last):
    ...
    caffe2lite.errors.ShapeError: X.dim() == Y.dim(). 2 vs 3 (expected 3, found 2)
    """
    if ok:
        return
    text = f"{expr}. {lhs} vs {rhs}" + (f". {message}" if message else "")
    raise error(text, blob=blob, expected=rhs, found=lhs)


def enforce_that(ok: Any, expr: str, message: str = "", *, blob: str | None = None,
                 expected: Any = None, found: Any = None,
                 error: type[EnforceError] = ShapeError) -> None:
    """Caffe2's ``CAFFE_ENFORCE(cond, msg)``: ``"cond. msg"`` (or ``"cond"``)."""
    if not ok:
        raise error(f"{expr}. {message}" if message else expr, blob=blob,
                    expected=expected, found=found)


def tensor(x: Any, blob: str) -> np.ndarray:
    """``x`` must be a tensor (not a string blob or None)."""
    if not isinstance(x, np.ndarray):
        raise DTypeError("expected a tensor", blob=blob, expected="a numpy array",
                         found=type(x).__name__)
    return x


def dispatch(x: Any, blob: str, types: Sequence[np.dtype] = FLOATS) -> np.dtype:
    """Caffe2's DispatchHelper over ``types``: the dtype of ``x``, or
    ``"Unsupported type of tensor: int"``."""
    if type(x) is np.ndarray and x.dtype in types:  # the common case, in one test
        return x.dtype
    tensor(x, blob)
    if x.dtype not in types:
        raise DTypeError(f"Unsupported type of tensor: {cpp_type_name(x.dtype)}", blob=blob,
                         expected=" or ".join(str(t) for t in types), found=str(x.dtype))
    return x.dtype


def float_tensor(x: Any, blob: str, dtype: np.dtype | None = None) -> np.dtype:
    """``x`` must hold float32 or float64 (Caffe2's ``data<float>()``); with ``dtype``,
    exactly that type (so every input of an op shares the first input's type)."""
    if type(x) is np.ndarray:  # the common case without check_dtype's call
        found = x.dtype
        if (found in FLOATS) if dtype is None else (found == dtype):
            return found
    if dtype is None:
        check_dtype(x, blob, *FLOATS)
    else:
        check_dtype(x, blob, dtype)
    return x.dtype


def canonical_axis(axis: int, ndim: int, arg: str = "axis") -> int:
    """Caffe2's ``canonical_axis_index_``: ``-ndim <= axis < ndim``, negative counts
    from the end."""
    if axis < -ndim:
        raise ShapeError(f"axis_index >= -ndims. {axis} vs {-ndim}", arg=arg,
                         expected=f"{-ndim} <= {arg} < {ndim}", found=axis)
    if axis >= ndim:
        raise ShapeError(f"axis_index < ndims. {axis} vs {ndim}", arg=arg,
                         expected=f"{-ndim} <= {arg} < {ndim}", found=axis)
    return axis + ndim if axis < 0 else axis


def size_to(shape: Sequence[int], axis: int) -> int:
    """Product of ``shape[:axis]`` (Caffe2's ``size_to_dim``)."""
    # math.prod on the int tuple: np.prod costs microseconds per call.
    return int(prod(shape[:axis]))


def size_from(shape: Sequence[int], axis: int) -> int:
    """Product of ``shape[axis:]`` (Caffe2's ``size_from_dim``)."""
    return int(prod(shape[axis:]))


def dim_from_order(order: str) -> int:
    """The channel axis of a storage order: ``NCHW`` -> 1, ``NHWC`` -> 3."""
    if order in ("NCHW", "nchw"):
        return 1
    if order in ("NHWC", "nhwc"):
        return 3
    raise EnforceError(f"Unsupported storage order: {order}", arg="order",
                       expected="NCHW or NHWC", found=repr(order))


def same_shape(a: np.ndarray, b: np.ndarray, a_name: str, b_name: str, blob: str) -> None:
    """Caffe2's ``CAFFE_ENFORCE(A.ndim() == B.ndim())`` then per-dimension equality."""
    enforce_that(a.ndim == b.ndim, f"{a_name}.dim() == {b_name}.dim()", blob=blob,
                 expected=f"{a.ndim}-D like {a_name} {dims(a.shape)}", found=dims(b.shape))
    for i, (p, q) in enumerate(zip(a.shape, b.shape)):
        enforce_that(p == q, f"{a_name}.dim32({i}) == {b_name}.dim32({i})", blob=blob,
                     expected=f"shape {dims(a.shape)}", found=dims(b.shape))


def axis_and_add_axis(axis: int | None, order: str | None, add_axis: int,
                      verb: str) -> tuple[int, bool]:
    """Concat's and Split's ``axis`` / ``order`` / ``add_axis`` arguments resolved as
    Caffe2 did: ``axis`` wins; without it the axis comes from ``order`` (default
    NCHW, so 1) and ``add_axis`` is ignored. Giving both is an error."""
    if axis is not None and order is not None:
        raise EnforceError(
            f"You shouldn't specify both the dim to {verb}, and the order in the case of "
            "4-D images.", arg="order", expected="either axis or order", found="both")
    if axis is None:
        return dim_from_order(order or "NCHW"), False
    return axis, bool(add_axis)
