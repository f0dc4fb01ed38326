"""ReduceFrontSum, ReduceBackSum, ReduceFrontMean and ReduceBackMean: sum or average
away the first (front) or last (back) ``num_reduce_dim`` dimensions, optionally only
the first lengths[j] entries of each reduced vector; and their gradient ops. One
table: the four differ only in the side and in the division."""

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

from .._dense import NUMERIC, dims, dispatch, size_from, size_to

MAX_ELEMENTS = 2**31 - 1  # a gradient shape read from data is checked before allocating
_ARGS = [Arg("num_reduce_dim", int, 1, doc="how many leading (front) or trailing "
                                           "(back) dimensions to reduce")]


def _split(shape: tuple, n: int, front: bool) -> tuple[int, int, tuple]:
    """(rows, cols, output shape): X read as rows x cols, front ops reducing the rows
    and back ops the columns."""
    if not 0 <= n <= len(shape):
        raise EnforceError("For N-dim input tensor, support num_reduce_dims in range "
                           "[0, N].", arg="num_reduce_dim",
                           expected=f"0 <= num_reduce_dim <= {len(shape)}", found=n)
    cut = n if front else len(shape) - n
    out = tuple(shape[n:]) if front else tuple(shape[:cut])
    return size_to(shape, cut), size_from(shape, cut), out


def _lengths(lengths: tuple, n: int, batch: int, reduced: int) -> np.ndarray | None:
    if not lengths:
        return None
    (values,) = lengths
    check_dtype(values, "lengths", np.int32)
    if n != 1:
        raise EnforceError("Given lengths input, the number of reduce dimensions should be "
                           "one.", arg="num_reduce_dim", expected=1, found=n)
    if values.size != batch:
        raise EnforceError("The size of lengths vector doesn't match the batch size.",
                           blob="lengths", expected=f"{batch} lengths", found=values.size)
    flat = values.reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() > reduced):
        raise EnforceError("lengths out of range (Caffe2 read past the data)", blob="lengths",
                           expected=f"lengths in [0, {reduced}]", found=values.tolist())
    return flat


def _divide(total: np.ndarray, count, dtype: np.dtype) -> np.ndarray:
    """C++ division in X's type: truncating for integers, IEEE for floats."""
    if dtype.kind == "f":
        with np.errstate(divide="ignore", invalid="ignore"):
            return (total / count).astype(dtype)
    count = np.asarray(count, np.int64)
    if np.any(count == 0):
        raise EnforceError("integer mean over zero elements", blob="lengths",
                           expected="lengths >= 1 for an integer mean", found=0)
    q = np.abs(total.astype(np.int64)) // np.abs(count)
    return (np.sign(total) * np.sign(count) * q).astype(dtype)


def _forward(front: bool, mean: bool):
    def kernel(x: np.ndarray, *lengths: np.ndarray, num_reduce_dim: int) -> tuple:
        dtype = dispatch(x, "X", NUMERIC)
        rows, cols, out_shape = _split(x.shape, num_reduce_dim, front)
        if rows == 0 or cols == 0:
            return (np.zeros(out_shape, dtype),)
        lens = _lengths(lengths, num_reduce_dim, cols if front else rows,
                        rows if front else cols)
        m = x.reshape(rows, cols)
        if not front:
            m = m.T  # reduce over axis 0 from here on: (reduced, batch)
        reduced = m.shape[0]
        if lens is None:
            total = m.sum(axis=0, dtype=dtype)
            count = reduced
        else:
            keep = np.arange(reduced)[:, None] < lens[None, :]
            total = np.where(keep, m, dtype.type(0)).sum(axis=0, dtype=dtype)
            # Caffe2 started each sum from the first element, so length 0 gives it.
            total = np.where(lens == 0, m[0], total)
            count = lens
        y = _divide(total, count, dtype) if mean else total
        return (np.asarray(y, dtype).reshape(out_shape),)

    return kernel


def _forward_shape(front: bool):
    def shape(x: TensorShape, *lengths: TensorShape, num_reduce_dim: int):
        if x.dims is None:
            return (TensorShape(None, x.dtype),)
        n, d = num_reduce_dim, x.dims
        return (TensorShape(tuple(d[n:]) if front else tuple(d[:len(d) - n]), x.dtype),)

    return shape


def _gradient(front: bool, mean: bool):
    def kernel(dy: np.ndarray, x: np.ndarray, *lengths: np.ndarray,
               num_reduce_dim: int) -> tuple:
        dtype = dispatch(dy, "dY", NUMERIC)
        if x.ndim == 1 and x.dtype == np.int64:
            shape = tuple(int(v) for v in x.tolist())  # old models passed X's shape
            if min(shape, default=0) < 0:
                raise EnforceError("negative dimension in the shape input", blob="X",
                                   expected="dimensions >= 0", found=list(shape))
            if int(np.prod(shape, dtype=object)) > MAX_ELEMENTS:
                raise EnforceError("the shape input asks for too large a gradient", blob="X",
                                   expected=f"at most {MAX_ELEMENTS} elements",
                                   found=list(shape))
        else:
            shape = x.shape
        rows, cols, _ = _split(shape, num_reduce_dim, front)
        batch, reduced = (cols, rows) if front else (rows, cols)
        if dy.size != batch:
            raise EnforceError("dY does not match the reduced shape", blob="dY",
                               expected=f"{batch} elements", found=f"shape {dims(dy.shape)}")
        lens = _lengths(lengths, num_reduce_dim, batch, reduced)
        g = dy.reshape(1, batch)
        keep = (np.ones((reduced, batch), bool) if lens is None
                else np.arange(reduced)[:, None] < lens[None, :])
        if mean:
            count = reduced if lens is None else np.maximum(lens, 1)
            g = _divide(g, count, dtype) if reduced else g
        dx = np.where(keep, g, dtype.type(0)).astype(dtype)
        if not front:
            dx = dx.T
        return (np.ascontiguousarray(dx).reshape(shape),)

    return kernel


def _gradient_shape(dy: TensorShape, x: TensorShape, *lengths: TensorShape, **_):
    if x.dtype == np.dtype(np.int64) and x.ndim == 1:
        n = x.dims[0]
        return (TensorShape(None if isinstance(n, str) else tuple(
            f"shape[{i}]" for i in range(n)), dy.dtype),)
    return (TensorShape(x.dims, dy.dtype),)


def _maker(g):
    """``<Type>Gradient([Y_grad, X, (lengths)]) -> [X_grad]``."""
    inputs = [g.GO(0), g.I(0)] + ([g.I(1)] if len(g.def_.input) == 2 else [])
    return [g.op_def(g.def_.type + "Gradient", inputs, [g.GI(0)])]


_X = np.array([[1, 5, 2, 9], [4, 1, 8, 2], [2, 7, 0, 3]], np.float32)
# name, front, mean, example lengths, example output, gradient example (dY -> dX)
_TABLE = [
    ("ReduceFrontSum", True, False, [2, 3, 1, 2], [5, 13, 2, 11],
     [[1, 2, 3, 4], [1, 2, 0, 4], [0, 2, 0, 0]]),
    ("ReduceBackSum", False, False, [2, 3, 1], [6, 13, 2],
     [[1, 1, 0, 0], [2, 2, 2, 0], [3, 0, 0, 0]]),
    ("ReduceFrontMean", True, True, [2, 3, 1, 2], [2.5, 13 / 3, 2, 5.5],
     [[0.5, 2 / 3, 3, 2], [0.5, 2 / 3, 0, 2], [0, 2 / 3, 0, 0]]),
    ("ReduceBackMean", False, True, [2, 3, 1], [3, 13 / 3, 2],
     [[0.5, 0.5, 0, 0], [2 / 3, 2 / 3, 2 / 3, 0], [3, 0, 0, 0]]),
]

for _name, _front, _mean, _lens, _out, _dx in _TABLE:
    _side = "first" if _front else "last"
    _verb = "mean" if _mean else "sum"
    _dy = [1, 2, 3, 4] if _front else [1, 2, 3]
    _scaled = "divided by its count and " if _mean else ""
    _dx_text = [[round(v, 6) for v in row] for row in _dx]
    register_cpu_operator(
        _name,
        inputs=["X", "lengths"],
        outputs=["Y"],
        num_inputs=(1, 2),
        args=_ARGS,
        shape=_forward_shape(_front),
        example=Example({"X": _X, "lengths": np.array(_lens, np.int32)},
                        {"Y": np.array(_out, np.float32)}),
        doc=f"""The {_verb} of X (int32, int64, float32 or float64) over its {_side}
``num_reduce_dim`` dimensions (default 1, at most X's rank): Y has the other
dimensions. With the optional int32 input lengths (num_reduce_dim must then be 1, one
length per output element, each at most the reduced size) only the first lengths[j]
entries of each reduced vector count. As in Caffe2 a length of 0 gives the vector's
first element{' divided by 0' if _mean else ''}; an empty X gives zeros.
{'Integer means truncate.' if _mean else ''}

Example: X=[[1, 5, 2, 9], [4, 1, 8, 2], [2, 7, 0, 3]], lengths={_lens} ->
Y={[round(v, 6) for v in _out]}""",
    )(_forward(_front, _mean))
    register_gradient(_name)(_maker)
    register_cpu_operator(
        _name + "Gradient",
        inputs=["dY", "X", "lengths"],
        outputs=["dX"],
        num_inputs=(2, 3),
        args=_ARGS,
        shape=_gradient_shape,
        example=Example({"dY": np.array(_dy, np.float32), "X": _X,
                         "lengths": np.array(_lens, np.int32)},
                        {"dX": np.array(_dx, np.float32)}),
        doc=f"""Gradient of {_name}: each dY element is {_scaled}copied back to the
entries of X it came from (the first lengths[j] of its vector when lengths is given),
0 elsewhere. The second input is X, or (for old models) X's shape as a 1-D int64
tensor.

Example: dY={_dy}, X of shape (3, 4), lengths={_lens} -> dX={_dx_text}""",
    )(_gradient(_front, _mean))
    gradient_not_implemented_yet(_name + "Gradient")
