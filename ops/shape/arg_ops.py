"""ArgMax and ArgMin: the index (int64) of the largest or smallest element along one
axis. One table: the two differ only in the comparison."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import NUMERIC, dispatch, enforce_cmp

_ARGS = [Arg("axis", int, -1, doc="the axis to search (-1: the last)"),
         Arg("keepdims", bool, True, doc="keep the searched axis as a 1")]


def _axis(axis: int, ndim: int) -> int:
    """Caffe2's rule: -1 is the last axis; any other axis must be in [0, ndim)."""
    if axis == -1:
        axis = ndim - 1
    enforce_cmp(axis >= 0, "axis_ >= 0", axis, 0, blob="X")
    enforce_cmp(axis < ndim, "axis_ < ndim", axis, ndim, blob="X")
    return axis


def _out_dims(shape: tuple, axis: int, keepdims: bool) -> tuple:
    return tuple(shape[:axis]) + ((1,) if keepdims else ()) + tuple(shape[axis + 1:])


def _kernel(largest: bool):
    def kernel(x: np.ndarray, *, axis: int, keepdims: bool) -> tuple:
        dispatch(x, "X", NUMERIC)
        ax = _axis(axis, x.ndim)
        shape = _out_dims(x.shape, ax, keepdims)
        if x.shape[ax] == 0 or x.size == 0:
            return (np.zeros(shape, np.int64),)
        # Caffe2 scanned from index 0 and moved on only to a strictly better value: NaN
        # is never chosen unless it comes first, and then it stays.
        if x.dtype.kind == "f":
            fill = -np.inf if largest else np.inf
            clean = np.where(np.isnan(x), fill, x)
        else:
            clean = x
        index = np.argmax(clean, axis=ax) if largest else np.argmin(clean, axis=ax)
        if x.dtype.kind == "f":
            first = np.take(x, 0, axis=ax)
            index = np.where(np.isnan(first), 0, index)
        return (np.asarray(index, np.int64).reshape(shape),)

    return kernel


def _shape(x: TensorShape, *, axis: int, keepdims: bool) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, np.int64),)
    ax = _axis(axis, len(x.dims))
    return (TensorShape(_out_dims(x.dims, ax, keepdims), np.int64),)


_X = np.array([[4, 9, 6], [6, 6, 1], [9, 5, 9]], np.float32)
for _name, _largest, _out in (("ArgMax", True, [[1], [0], [0]]),
                              ("ArgMin", False, [[0], [2], [1]])):
    _word = "largest" if _largest else "smallest"
    register_cpu_operator(
        _name,
        inputs=["X"],
        outputs=["Indices"],
        args=_ARGS,
        shape=_shape,
        example=Example({"X": _X}, {"Indices": np.array(_out, np.int64)}, {"axis": 1}),
        doc=f"""The index of the {_word} element of X (int32, int64, float32 or float64)
along ``axis`` (-1, the default, is the last axis; other axes must be non-negative),
as int64: the first one on ties. With ``keepdims`` (default) the axis stays as a 1,
else it is dropped. As in Caffe2, NaN is never chosen unless it is first along the
axis, and an empty axis gives index 0.

Example: X=[[4, 9, 6], [6, 6, 1], [9, 5, 9]] with axis=1 -> Indices={_out}""",
    )(_kernel(_largest))
    should_not_do_gradient(_name)
