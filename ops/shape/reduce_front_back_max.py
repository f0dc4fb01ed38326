"""ReduceFrontMax and ReduceBackMax: the maximum over the first (front) or last (back)
``num_reduce_dim`` dimensions, optionally over only the first lengths[j] entries of
each reduced vector; and their gradient ops ReduceFrontMaxGradient and
ReduceBackMaxGradient. One table: the two differ only in the side."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import FLOATS, dims
from .reduce_front_back import _forward_shape, _lengths, _split

_ARGS = [Arg("num_reduce_dim", int, 1, doc="how many leading (front) or trailing "
                                           "(back) dimensions to reduce")]


def _as_columns(m: np.ndarray, front: bool) -> np.ndarray:
    """X as (reduced, batch): front ops reduce the rows of rows x cols, back ops the
    columns."""
    return m if front else m.T


def _keep(reduced: int, batch: int, lens: np.ndarray | None) -> np.ndarray:
    """Which entries count: the first lengths[j] of vector j (all without lengths)."""
    if lens is None:
        return np.ones((reduced, batch), bool)
    return np.arange(reduced)[:, None] < lens[None, :]


def _forward(front: bool):
    def kernel(x: np.ndarray, *lengths: np.ndarray, num_reduce_dim: int) -> tuple:
        check_dtype(x, "X", *FLOATS)
        rows, cols, out_shape = _split(x.shape, num_reduce_dim, front)
        if rows == 0 or cols == 0:
            return (np.zeros(out_shape, x.dtype),)
        batch, reduced = (cols, rows) if front else (rows, cols)
        lens = _lengths(lengths, num_reduce_dim, batch, reduced)
        m = _as_columns(x.reshape(rows, cols), front)
        keep = _keep(reduced, batch, lens)
        keep[0] = True  # Caffe2 started from the first entry, whatever the length
        # std::max(mx, v) keeps mx unless mx < v: a NaN first entry stays, a later NaN
        # is passed over, which is numpy's fmax after the first entry.
        rest = np.where(keep, m, x.dtype.type(-np.inf))
        y = np.where(np.isnan(m[0]), m[0], np.fmax.reduce(rest, axis=0))
        return (np.asarray(y, x.dtype).reshape(out_shape),)

    return kernel


def _gradient(front: bool):
    def kernel(dy: np.ndarray, x: np.ndarray, y: np.ndarray, *lengths: np.ndarray,
               num_reduce_dim: int) -> tuple:
        check_dtype(x, "X", *FLOATS)
        for arr, name in ((dy, "dY"), (y, "Y")):
            check_dtype(arr, name, x.dtype)
        rows, cols, _ = _split(x.shape, num_reduce_dim, front)
        batch, reduced = (cols, rows) if front else (rows, cols)
        for arr, name in ((dy, "dY"), (y, "Y")):
            if arr.size != batch:
                raise EnforceError(f"{name} does not match the reduced shape (Caffe2 read "
                                   "past it)", blob=name, expected=f"{batch} elements",
                                   found=f"shape {dims(arr.shape)}")
        lens = _lengths(lengths, num_reduce_dim, batch, reduced)
        m = _as_columns(x.reshape(rows, cols), front)
        hit = _keep(reduced, batch, lens) & (m == y.reshape(1, batch))
        dx = np.where(hit, dy.reshape(1, batch), x.dtype.type(0)).astype(x.dtype)
        return (np.ascontiguousarray(_as_columns(dx, front)).reshape(x.shape),)

    return kernel


def _gradient_shape(dy: TensorShape, x: TensorShape, y: TensorShape, *lengths: TensorShape,
                    **_) -> tuple:
    return (TensorShape(x.dims, x.dtype),)


def _maker(g):
    """``<Type>Gradient([Y_grad, X, Y, (lengths)]) -> [X_grad]``."""
    inputs = [g.GO(0), g.I(0), g.O(0)] + ([g.I(1)] if len(g.def_.input) == 2 else [])
    return [g.op_def(g.def_.type + "Gradient", inputs, [g.GI(0)])]


_X = np.array([[1, 5, 2, 9], [4, 1, 8, 2], [2, 7, 0, 3]], np.float32)
# name, front, example lengths, example output, dY, dX
_TABLE = [
    ("ReduceFrontMax", True, [2, 3, 1, 2], [4, 7, 2, 9], [1, 2, 3, 4],
     [[0, 0, 3, 4], [1, 0, 0, 0], [0, 2, 0, 0]]),
    ("ReduceBackMax", False, [2, 3, 1], [5, 8, 2], [1, 2, 3],
     [[0, 1, 0, 0], [0, 0, 2, 0], [3, 0, 0, 0]]),
]

for _name, _front, _lens, _out, _dy, _dx in _TABLE:
    _side = "first" if _front else "last"
    register_cpu_operator(
        _name,
        inputs=["X", "lengths"],
        outputs=["Y"],
        num_inputs=(1, 2),
        args=_ARGS,
        shape=_forward_shape(_front),
        example=Example({"X": _X, "lengths": np.array(_lens, np.int32)},
                        {"Y": np.array(_out, np.float32)}),
        doc=f"""The maximum of X (float32 as in Caffe2; float64 too, as everywhere in
caffe2lite, so gradients can be checked in double precision) over its {_side}
``num_reduce_dim`` dimensions (default 1, at most X's rank; Caffe2's schema documented
it as num_reduce_dims but read num_reduce_dim): Y has the other dimensions. With the
optional int32 input lengths (num_reduce_dim must then be 1, one length per output
element) only the first lengths[j] entries of each reduced vector count. As in Caffe2
each maximum starts from the vector's first entry (so a length of 0 gives it, and a NaN
there stays while later NaNs are passed over) and an empty X gives zeros. A length
above the reduced size or below 0 is an error here (Caffe2 read past the data, or
returned the first entry without a gradient).

Example: X=[[1, 5, 2, 9], [4, 1, 8, 2], [2, 7, 0, 3]], lengths={_lens} -> Y={_out}""",
    )(_forward(_front))
    register_gradient(_name)(_maker)
    register_cpu_operator(
        _name + "Gradient",
        inputs=["dY", "X", "Y", "lengths"],
        outputs=["dX"],
        num_inputs=(3, 4),
        args=_ARGS,
        shape=_gradient_shape,
        example=Example({"dY": np.array(_dy, np.float32), "X": _X,
                         "Y": np.array(_out, np.float32),
                         "lengths": np.array(_lens, np.int32)},
                        {"dX": np.array(_dx, np.float32)}),
        doc=f"""Gradient of {_name}: dX has X's shape; each dY element goes to every
entry of its vector equal to the maximum Y (all of them on ties, as in Caffe2), within
the first lengths[j] entries when lengths is given, and 0 elsewhere. dY and Y have X's
type (float32, or float64).

Example: dY={_dy}, X=[[1, 5, 2, 9], [4, 1, 8, 2], [2, 7, 0, 3]], Y={_out},
lengths={_lens} -> dX={_dx}""",
    )(_gradient(_front))
    gradient_not_implemented_yet(_name + "Gradient")
