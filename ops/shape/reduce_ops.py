"""ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceL1 and ReduceL2 over ``axes``
(all axes by default), keeping the reduced axes as 1s unless ``keepdims`` is 0, and
their gradient ops ReduceSumGradient, ... (inputs dY, X, Y). One table: the ops differ
only in the reduction and its derivative."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import FLOATS, NUMERIC, canonical_axis, dims, dispatch, float_tensor

_ARGS = [Arg("axes", "ints", [], doc="the axes to reduce (default: all)"),
         Arg("keepdims", bool, True, doc="keep each reduced axis as a 1")]


def reduced_axes(axes: list[int], ndim: int) -> list[int]:
    """Sorted, distinct, non-negative axes (every axis when none are given)."""
    if not axes:
        return list(range(ndim))
    return sorted({canonical_axis(a, ndim, "axes") for a in axes})


def output_dims(shape: tuple, axes: list[int], keepdims: bool) -> tuple:
    out = []
    for i, d in enumerate(shape):
        if i in axes:
            if keepdims:
                out.append(1)
        else:
            out.append(d)
    return tuple(out)


def _identity(reducer: str, dtype: np.dtype):
    """What Caffe2 wrote for a reduction over no elements."""
    if reducer == "max":
        return np.finfo(dtype).min if dtype.kind == "f" else np.iinfo(dtype).min
    if reducer == "min":
        return np.finfo(dtype).max if dtype.kind == "f" else np.iinfo(dtype).max
    return 0


def _forward(name: str, reducer: str, fn: Callable, types):
    def kernel(x: np.ndarray, *, axes: list[int], keepdims: bool) -> tuple:
        dtype = (float_tensor(x, "X") if types is FLOATS else dispatch(x, "X", types))
        ax = reduced_axes(axes, x.ndim)
        shape = output_dims(x.shape, ax, keepdims)
        if x.size == 0:
            return (np.full(shape, _identity(reducer, dtype), dtype),)
        y = fn(x, axis=tuple(ax), keepdims=keepdims)
        return (np.asarray(y, dtype=dtype).reshape(shape),)

    kernel.__name__ = kernel.__qualname__ = name.lower()
    return kernel


def _shape(x: TensorShape, *, axes: list[int], keepdims: bool) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    ax = reduced_axes(axes, len(x.dims))
    return (TensorShape(output_dims(x.dims, ax, keepdims), x.dtype),)


def _gradient(name: str, reducer: str, types):
    def kernel(dy: np.ndarray, x: np.ndarray, y: np.ndarray, *, axes: list[int],
               keepdims: bool) -> tuple:
        dtype = (float_tensor(dy, "dY") if types is FLOATS else dispatch(dy, "dY", types))
        float_tensor(x, "X", dtype)
        float_tensor(y, "Y", dtype)
        ax = reduced_axes(axes, x.ndim)
        kept = output_dims(x.shape, ax, True)
        for value, blob in ((dy, "dY"), (y, "Y")):
            if value.size != int(np.prod(kept)):
                raise ShapeError(f"{blob} does not have the reduced shape of X", blob=blob,
                                 expected=f"{int(np.prod(kept))} elements (shape "
                                 f"{dims(kept)})", found=f"shape {dims(value.shape)}")
        g = dy.reshape(kept)
        if reducer == "sum":
            dx = np.broadcast_to(g, x.shape)
        elif reducer == "mean":
            count = x.size // max(g.size, 1) if x.size else 1
            dx = np.broadcast_to(g / dtype.type(count), x.shape)
        elif reducer == "l1":
            eps = dtype.type(_EPS)  # Caffe2's kEps = 1e-12f: X within it gets 0
            dx = np.where(x < -eps, -g, np.where(x > eps, g, dtype.type(0)))
        elif reducer == "l2":
            norm = y.reshape(kept)
            with np.errstate(divide="ignore", invalid="ignore"):
                dx = np.where(norm < dtype.type(_EPS), g, g * x / norm)
        else:
            dx = np.where(y.reshape(kept) == x, g, dtype.type(0))
        return (np.array(np.broadcast_to(dx, x.shape), dtype=dtype),)

    kernel.__name__ = kernel.__qualname__ = name.lower() + "_gradient"
    return kernel


_EPS = np.float32(1e-12)


def _l1(x: np.ndarray, axis: tuple, keepdims: bool) -> np.ndarray:
    return np.sum(np.abs(x), axis=axis, keepdims=keepdims)


def _l2(x: np.ndarray, axis: tuple, keepdims: bool) -> np.ndarray:
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


def _gradient_maker(g):
    """``<Type>Gradient([Y_grad, X, Y]) -> [X_grad]`` (axes and keepdims ride along)."""
    return [g.op_def(g.def_.type + "Gradient", [g.GO(0), g.I(0), g.O(0)], [g.GI(0)])]


_X = np.array([[1, 5, 3], [4, 1, 7]], np.float32)
# name, reducer, numpy function, types, forward example output, what it does
_TABLE = [
    ("ReduceSum", "sum", np.sum, NUMERIC, np.array([[9], [12]], np.float32), "sum"),
    ("ReduceMean", "mean", np.mean, FLOATS,
     np.array([[3], [4]], np.float32), "mean"),
    ("ReduceMax", "max", np.max, NUMERIC, np.array([[5], [7]], np.float32), "maximum"),
    ("ReduceMin", "min", np.min, NUMERIC, np.array([[1], [1]], np.float32), "minimum"),
    ("ReduceL1", "l1", _l1, FLOATS, np.array([[9], [12]], np.float32),
     "L1 norm (sum of absolute values)"),
    ("ReduceL2", "l2", _l2, FLOATS, np.sqrt(np.array([[35], [66]], np.float32)),
     "L2 norm (square root of the sum of squares)"),
]
_GRAD_DOC = {
    "sum": "dY broadcast back to X's shape",
    "mean": "dY broadcast back to X's shape, divided by the number of elements each "
            "output averaged",
    "max": "dY where X equals its reduced value Y (every tie gets it), 0 elsewhere",
    "min": "dY where X equals its reduced value Y (every tie gets it), 0 elsewhere",
    "l1": "dY times the sign of X, where an X within 1e-12 of 0 gets 0 (Caffe2's kEps)",
    "l2": "dY * X / Y, or dY itself where the norm Y is below 1e-12 (Caffe2's kEps)",
}
_GRAD_EXAMPLE = {
    "sum": np.array([[3, 3, 3], [6, 6, 6]], np.float32),
    "mean": np.array([[1, 1, 1], [2, 2, 2]], np.float32),
    "max": np.array([[0, 3, 0], [0, 0, 6]], np.float32),
    "min": np.array([[3, 0, 0], [0, 6, 0]], np.float32),
    "l1": np.array([[3, 3, 3], [6, 6, 6]], np.float32),
    "l2": (np.array([[3], [6]], np.float32) * _X / np.sqrt(np.array([[35], [66]], np.float32))),
}

for _name, _reducer, _fn, _types, _out, _what in _TABLE:
    _types_doc = "float32 or float64" if _types is FLOATS else "int32, int64, float32 or float64"
    _empty = {"sum": "0", "mean": "0", "max": "the lowest value of the type",
              "min": "the highest value of the type", "l1": "0", "l2": "0"}[_reducer]
    register_cpu_operator(
        _name,
        inputs=["X"],
        outputs=["Y"],
        args=_ARGS,
        shape=_shape,
        example=Example({"X": _X}, {"Y": _out}, {"axes": [1]}),
        doc=f"""The {_what} of X's elements ({_types_doc}) over ``axes`` (negative
counts from the end; all axes when none are given). With ``keepdims`` (default 1)
each reduced axis stays as a 1, else it is dropped. A reduction over no elements
gives {_empty}.

Example: X=[[1, 5, 3], [4, 1, 7]] with axes=[1] -> Y={_out.tolist()}""",
    )(_forward(_name, _reducer, _fn, _types))
    register_gradient(_name)(_gradient_maker)
    _y = _out
    register_cpu_operator(
        _name + "Gradient",
        inputs=["dY", "X", "Y"],
        outputs=["dX"],
        args=_ARGS,
        shape=lambda dy, x, y, **_: (TensorShape(x.dims, dy.dtype),),
        example=Example({"dY": np.array([[3], [6]], np.float32), "X": _X, "Y": _y},
                        {"dX": _GRAD_EXAMPLE[_reducer]}, {"axes": [1]}),
        doc=f"""Gradient of {_name}: {_GRAD_DOC[_reducer]}. dY and Y have the reduced
shape (with or without the kept 1s); dX has X's shape and type.

Example: dY=[[3], [6]], X=[[1, 5, 3], [4, 1, 7]], Y={_y.tolist()} with axes=[1] ->
dX={_GRAD_EXAMPLE[_reducer].tolist()}""",
    )(_gradient(_name, _reducer, _types))
    gradient_not_implemented_yet(_name + "Gradient")
