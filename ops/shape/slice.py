"""Slice: a sub-block of a tensor along one dimension, from ``starts``/``ends``
arguments or inputs; its gradient op SliceGradient scatters the output gradient back
into zeros."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from caffe2lite.errors import ArgumentError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, dispatch, enforce_cmp, enforce_that, tensor

_INT = (np.dtype(np.int32), np.dtype(np.int64))
_ARGS = [Arg("starts", "ints", None, doc="start index per dimension (negative: from the end)"),
         Arg("ends", "ints", None, doc="end index per dimension (negative: from the end, "
                                       "-1 meaning through the last element)")]


def _bounds_from(inputs: Sequence[np.ndarray], starts: list[int] | None,
                 ends: list[int] | None) -> tuple[list[int], list[int]]:
    """The start and end lists, from the two index inputs or from the arguments."""
    if inputs:
        if len(inputs) != 2:
            raise ShapeError("Slice takes both starts and ends as inputs, or neither",
                             expected="1 or 3 inputs", found=f"{len(inputs) + 1} inputs")
        dtype = dispatch(inputs[0], "starts", _INT)
        tensor(inputs[1], "ends")
        if inputs[1].dtype != dtype:
            dispatch(inputs[1], "ends", (dtype,))
        lo, hi = inputs
        enforce_cmp(lo.ndim == 1, "starts.dim() == 1", lo.ndim, 1, blob="starts")
        enforce_cmp(hi.ndim == 1, "ends.dim() == 1", hi.ndim, 1, blob="ends")
        return [int(v) for v in lo.tolist()], [int(v) for v in hi.tolist()]
    if starts is None:
        raise ArgumentError('HasArgument("starts")', arg="starts",
                            expected="the starts argument or the starts and ends inputs")
    if ends is None:
        raise ArgumentError('HasArgument("ends")', arg="ends",
                            expected="the ends argument or the starts and ends inputs")
    enforce_cmp(len(starts) == len(ends), "starts_.size() == ends_.size()", len(starts),
                len(ends), error=ArgumentError)
    return list(starts), list(ends)


def slice_bounds(shape: Sequence[int], starts: list[int], ends: list[int]) -> list[slice]:
    """One Python slice per dimension by Caffe2's rules (negative indices count from
    size + 1, indices past the end are clamped); at most one dimension may be cut."""
    enforce_cmp(len(shape) >= len(starts), "data.dim() >= starts.numel()", len(shape),
                len(starts), blob="data")
    enforce_cmp(len(starts) == len(ends), "starts.numel() == ends.numel()", len(starts),
                len(ends), blob="ends")
    out = []
    for i, size in enumerate(shape):
        if i >= len(starts) or size == 0:
            out.append(slice(0, size))
            continue
        start, end = starts[i], ends[i]
        start = size + 1 + start if start < 0 else start
        end = size + 1 + end if end < 0 else end
        start, end = min(start, size), min(end, size)
        enforce_cmp(start >= 0, "start >= 0", start, 0, blob="starts")
        enforce_cmp(end >= 0, "end >= 0", end, 0, blob="ends")
        enforce_cmp(end >= start, "end >= start", end, start, blob="ends")
        out.append(slice(start, end))
    cut = [i for i, (s, size) in enumerate(zip(out, shape)) if s.start > 0 or s.stop < size]
    if len(cut) > 1 and int(np.prod(shape)) > 0:
        enforce_cmp(False, "dim == -1", cut[0], -1,
                    "Currently only possible to slice in 1 dimension.", blob="data")
    return out


def _shape(data: TensorShape, *inputs: TensorShape, starts: list[int] | None,
           ends: list[int] | None) -> tuple[TensorShape]:
    if inputs or not data.known or starts is None or ends is None:
        rank = data.ndim
        return (TensorShape(None if rank is None else tuple(
            f"sliced[{i}]" for i in range(rank)), data.dtype),)
    bounds = slice_bounds(data.dims, list(starts), list(ends))
    return (TensorShape(tuple(s.stop - s.start for s in bounds), data.dtype),)


@register_cpu_operator(
    "Slice",
    inputs=["data", "starts", "ends"],
    outputs=["output"],
    num_inputs=(1, 3),
    args=_ARGS,
    shape=_shape,
    example=Example({"data": np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.int32)},
                    {"output": np.array([[2, 3], [6, 7]], np.int32)},
                    {"starts": [0, 1], "ends": [-1, 3]}),
    doc="""A slice of data (any type) along at most one dimension. Start and end
indices per dimension come from the ``starts``/``ends`` arguments or from the 1-D
int32/int64 inputs starts and ends (inputs win); dimensions past the lists are kept
whole. A negative index counts from the end, so end -1 keeps the last element;
indices past the end are clamped. (Caffe2 gave a size-0 dimension for dimensions past
the lists; here they are kept whole.)

Example: data=[[1, 2, 3, 4], [5, 6, 7, 8]] with starts=[0, 1], ends=[-1, 3] ->
output=[[2, 3], [6, 7]]""",
)
def slice_op(data: np.ndarray, *index: np.ndarray, starts: list[int] | None,
             ends: list[int] | None) -> tuple:
    """Basic indexing by the resolved bounds, copied."""
    tensor(data, "data")
    lo, hi = _bounds_from(index, starts, ends)
    return (data[tuple(slice_bounds(data.shape, lo, hi))].copy(),)


@register_gradient("Slice")
def slice_gradient_maker(g):
    """``SliceGradient([data, (starts, ends,) output_grad]) -> [data_grad]``."""
    if len(g.def_.input) > 1:
        return [g.op_def("SliceGradient", [g.I(0), g.I(1), g.I(2), g.GO(0)], [g.GI(0)])]
    return [g.op_def("SliceGradient", [g.I(0), g.GO(0)], [g.GI(0)])]


def _gradient_shape(data: TensorShape, *rest: TensorShape) -> tuple[TensorShape]:
    dy = rest[-1] if rest else TensorShape()
    return (TensorShape(data.dims, dy.dtype),)


@register_cpu_operator(
    "SliceGradient",
    inputs=["data", "starts", "ends", "dY"],
    outputs=["dX"],
    num_inputs=(2, 4),
    allowed_inputs={2, 4},
    args=_ARGS,
    shape=_gradient_shape,
    example=Example({"data": np.zeros((2, 4), np.float32),
                     "dY": np.array([[1, 2], [3, 4]], np.float32)},
                    {"dX": np.array([[0, 1, 2, 0], [0, 3, 4, 0]], np.float32)},
                    {"starts": [0, 1], "ends": [-1, 3]}),
    doc="""Gradient of Slice: zeros of data's shape (dY's type) with dY written where
the slice came from. Inputs are data and dY with the ``starts``/``ends`` arguments,
or data, starts, ends and dY.

Example: data of shape (2, 4), dY=[[1, 2], [3, 4]] with starts=[0, 1], ends=[-1, 3]
-> dX=[[0, 1, 2, 0], [0, 3, 4, 0]]""",
)
def slice_gradient(data: np.ndarray, *rest: np.ndarray, starts: list[int] | None,
                   ends: list[int] | None) -> tuple:
    """Zeros with dY assigned into the sliced block."""
    tensor(data, "data")
    dy = tensor(rest[-1], "dY")
    lo, hi = _bounds_from(rest[:-1], starts, ends)
    bounds = tuple(slice_bounds(data.shape, lo, hi))
    want = tuple(s.stop - s.start for s in bounds)
    enforce_that(dy.shape == want, "dY.sizes() == sliced sizes", blob="dY",
                 expected=f"shape {dims(want)}", found=dims(dy.shape))
    dx = np.zeros(data.shape, dtype=dy.dtype)
    dx[bounds] = dy
    return (dx,)


gradient_not_implemented_yet("SliceGradient")
