"""RowwiseMax and ColwiseMax: for X of shape (B, M, N), the maximum of each row
(Y of shape (B, M)) or of each column (Y of shape (B, N)) of every matrix in the
batch; and their gradient ops RowwiseMaxGradient and ColwiseMaxGradient. One table:
the two differ only in the reduced axis."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype, enforce
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import FLOATS, dims


def _check_x(x: np.ndarray) -> None:
    check_dtype(x, "X", *FLOATS)
    enforce(x.ndim == 3, f"X.dim() == 3. {x.ndim} vs 3", blob="X", expected="3-D",
            found=f"shape {dims(x.shape)}")


def _forward(axis: int):
    def kernel(x: np.ndarray) -> tuple:
        _check_x(x)
        out = (x.shape[0], x.shape[3 - axis])
        if out[0] * out[1] == 0:
            return (np.zeros(out, x.dtype),)
        if x.shape[axis] == 0:
            raise EnforceError("the maximum of an empty row or column (Caffe2's Eigen "
                               "maxCoeff was undefined there)", blob="X",
                               expected="a non-empty reduced axis",
                               found=f"shape {dims(x.shape)}")
        return (np.max(x, axis=axis),)

    return kernel


def _forward_shape(axis: int):
    def shape(x: TensorShape) -> tuple[TensorShape]:
        if x.dims is None or len(x.dims) != 3:
            return (TensorShape(None, x.dtype),)
        return (TensorShape((x.dims[0], x.dims[3 - axis]), x.dtype),)

    return shape


def _gradient(axis: int):
    def kernel(x: np.ndarray, y: np.ndarray, dy: np.ndarray) -> tuple:
        _check_x(x)
        want = (x.shape[0], x.shape[3 - axis])
        for arr, name in ((y, "Y"), (dy, "dY")):
            check_dtype(arr, name, x.dtype)
            if arr.size != want[0] * want[1]:
                raise EnforceError(f"{name} does not match X's reduced shape (Caffe2 read "
                                   "past it)", blob=name, expected=f"shape {dims(want)}",
                                   found=f"shape {dims(arr.shape)}")
        y3 = np.expand_dims(y.reshape(want), axis)
        dy3 = np.expand_dims(dy.reshape(want), axis)
        return (np.where(x == y3, dy3, x.dtype.type(0)).astype(x.dtype),)

    return kernel


def _maker(g):
    """``<Type>Gradient([X, Y, Y_grad]) -> [X_grad]``."""
    return [g.op_def(g.def_.type + "Gradient", [g.I(0), g.O(0), g.GO(0)], [g.GI(0)])]


_X = np.array([[[5, 12, 10, 1], [4, 16, 2, 15]], [[16, 5, 5, 13], [17, 2, 1, 17]]],
              np.float32)
# name, reduced axis, Y, dY, dX
_TABLE = [
    ("RowwiseMax", 2, [[12, 16], [16, 17]], [[1, 2], [3, 4]],
     [[[0, 1, 0, 0], [0, 2, 0, 0]], [[3, 0, 0, 0], [4, 0, 0, 4]]]),
    ("ColwiseMax", 1, [[5, 16, 10, 15], [17, 5, 5, 17]], [[1, 2, 3, 4], [5, 6, 7, 8]],
     [[[1, 0, 3, 0], [0, 2, 0, 4]], [[0, 6, 7, 0], [5, 0, 0, 8]]]),
]

for _name, _axis, _y, _dy, _dx in _TABLE:
    _what = "row" if _axis == 2 else "column"
    _out = "(B, M)" if _axis == 2 else "(B, N)"
    register_cpu_operator(
        _name,
        inputs=["X"],
        outputs=["Y"],
        shape=_forward_shape(_axis),
        example=Example({"X": _X}, {"Y": np.array(_y, np.float32)}),
        doc=f"""For X of shape (B, M, N) (float32 as in Caffe2; float64 too), the
maximum of each {_what} of each of the B matrices: Y has shape {_out} and X's type.
An empty X gives an empty Y; a {_what} with no elements in a non-empty batch is an
error here (Caffe2's maximum of nothing was undefined).

Example: X=[[[5, 12, 10, 1], [4, 16, 2, 15]], [[16, 5, 5, 13], [17, 2, 1, 17]]] ->
Y={_y}""",
    )(_forward(_axis))
    register_gradient(_name)(_maker)
    register_cpu_operator(
        _name + "Gradient",
        inputs=["X", "Y", "dY"],
        outputs=["dX"],
        shape=lambda x, y, dy: (TensorShape(x.dims, x.dtype),),
        example=Example({"X": _X, "Y": np.array(_y, np.float32),
                         "dY": np.array(_dy, np.float32)},
                        {"dX": np.array(_dx, np.float32)}),
        doc=f"""Gradient of {_name}: dX has X's shape; each dY element goes to every
entry of its {_what} equal to the maximum Y (all of them on ties, as in Caffe2), 0
elsewhere.

Example: X as in {_name}'s example, Y={_y}, dY={_dy} -> dX={_dx}""",
    )(_gradient(_axis))
    gradient_not_implemented_yet(_name + "Gradient")
