"""Tile: repeat a tensor ``tiles`` times along ``axis`` (arguments or inputs); its
gradient op TileGradient sums the copies."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.schema.shapes import canonical_axis as shape_axis

from .._dense import NUMERIC, canonical_axis, dispatch, size_from, size_to

_INT = (np.dtype(np.int32), np.dtype(np.int64))
_ARGS = [Arg("tiles", int, None, doc="number of copies (default 1)"),
         Arg("axis", int, None, doc="the axis to repeat along (default 0)")]
_TYPES = NUMERIC + (np.dtype(np.float16), np.dtype(np.uint8), np.dtype(object))
MAX_ELEMENTS = 2**31 - 1  # a tiled output larger than this is refused before allocating


def tiles_and_axis(inputs: Sequence[np.ndarray], tiles: int | None,
                   axis: int | None) -> tuple[int, int]:
    """tiles and axis from the optional inputs (which win) or the arguments."""
    if inputs:
        for value, name in zip(inputs, ("tiles", "axis")):
            dispatch(value, name, _INT)
            if not (value.ndim == 1 and value.size == 1):
                raise ShapeError(f"Input `{name}` should be a vector of size 1.", blob=name,
                                 expected="shape [1]", found=f"shape {list(value.shape)}")
        tiles = int(inputs[0][0])
        if inputs[0].dtype == np.int64:
            axis = 0  # Caffe2 kept this for old models: int64 tiles reset the axis to 0
        if len(inputs) > 1:
            axis = int(inputs[1][0])
        elif _axis_missing(axis, inputs):
            raise ArgumentError("Argument `axis` is missing and was not specified as input.",
                                arg="axis")
    else:
        for value, name in ((tiles, "tiles"), (axis, "axis")):
            if value is None:
                raise ArgumentError(f"Argument `{name}` is missing and was not specified as "
                                    "input.", arg=name)
    if tiles < 0:
        raise EnforceError("tiles must be non-negative", arg="tiles", expected="tiles >= 0",
                           found=tiles)
    return tiles, axis


def _axis_missing(axis: int | None, inputs: Sequence[np.ndarray]) -> bool:
    """Caffe2 required the axis argument when only tiles came as an input (even where
    int64 tiles then reset the axis to 0)."""
    return axis is None and inputs[0].dtype != np.int64


def _shape(x: TensorShape, *inputs: TensorShape, tiles: int | None,
           axis: int | None) -> tuple[TensorShape]:
    if inputs or x.dims is None:
        return (TensorShape(None, x.dtype),)
    tiles = 1 if tiles is None else tiles
    ax = shape_axis(0 if axis is None else axis, len(x.dims))
    out = list(x.dims)
    out[ax] = f"{out[ax]}*{tiles}" if isinstance(out[ax], str) else out[ax] * tiles
    return (TensorShape(tuple(out), x.dtype),)


@register_cpu_operator(
    "Tile",
    inputs=["X", "tiles", "axis"],
    outputs=["Y"],
    num_inputs=(1, 3),
    args=_ARGS,
    shape=_shape,
    example=Example({"X": np.array([[1, 2], [3, 4]], np.int32)},
                    {"Y": np.array([[1, 2, 1, 2, 1, 2], [3, 4, 3, 4, 3, 4]], np.int32)},
                    {"tiles": 3, "axis": 1}),
    doc="""Repeat X (int32, int64, uint8, float16/32/64 or strings) ``tiles`` times along
``axis`` (negative counts from the end): Y.shape[axis] = X.shape[axis] * tiles, the
copies of each slab before the axis following one another. tiles and axis come from
the 1-D one-element int32/int64 inputs when given, else from the arguments, which
are then required. As in Caffe2, int64 tiles given as an input reset the axis to 0
unless the axis input is given too.

Example: X=[[1, 2], [3, 4]] with tiles=3, axis=1 -> Y=[[1, 2, 1, 2, 1, 2],
[3, 4, 3, 4, 3, 4]]""",
)
def tile(x: np.ndarray, *inputs: np.ndarray, tiles: int | None, axis: int | None) -> tuple:
    """np.tile of the (outer, inner) view."""
    dispatch(x, "X", _TYPES)
    n, ax = tiles_and_axis(inputs, tiles, axis)
    ax = canonical_axis(ax, x.ndim)
    if x.size * n > MAX_ELEMENTS:
        raise EnforceError("the tiled output is too large", blob="X",
                           expected=f"at most {MAX_ELEMENTS} elements",
                           found=f"{x.size} * {n}")
    outer, inner = size_to(x.shape, ax), size_from(x.shape, ax)
    shape = list(x.shape)
    shape[ax] *= n
    y = np.tile(x.reshape(outer, inner), (1, n)).reshape(shape)
    return (y,)


@register_gradient("Tile")
def tile_gradient_maker(g):
    """``TileGradient([Y_grad, (tiles, (axis))]) -> [X_grad]``."""
    return [g.op_def("TileGradient", [g.GO(0)] + list(g.def_.input[1:]), [g.GI(0)])]


def _gradient_shape(dy: TensorShape, *inputs: TensorShape, tiles: int | None,
                    axis: int | None) -> tuple[TensorShape]:
    if inputs or dy.dims is None:
        return (TensorShape(None, dy.dtype),)
    tiles = 1 if tiles is None else tiles
    ax = shape_axis(0 if axis is None else axis, len(dy.dims))
    out = list(dy.dims)
    out[ax] = f"{out[ax]}/{tiles}" if isinstance(out[ax], str) else out[ax] // max(tiles, 1)
    return (TensorShape(tuple(out), dy.dtype),)


@register_cpu_operator(
    "TileGradient",
    inputs=["dY", "tiles", "axis"],
    outputs=["dX"],
    num_inputs=(1, 3),
    args=_ARGS,
    shape=_gradient_shape,
    example=Example({"dY": np.array([[1, 2, 3, 4, 5, 6]], np.float32)},
                    {"dX": np.array([[9, 12]], np.float32)}, {"tiles": 3, "axis": 1}),
    doc="""Gradient of Tile: the ``tiles`` copies along ``axis`` of dY summed, so
dX.shape[axis] = dY.shape[axis] / tiles (which must divide it). tiles and axis are
read as by Tile.

Example: dY=[[1, 2, 3, 4, 5, 6]] with tiles=3, axis=1 -> dX=[[9, 12]]""",
)
def tile_gradient(dy: np.ndarray, *inputs: np.ndarray, tiles: int | None,
                  axis: int | None) -> tuple:
    """Sum over the copies of the (outer, tiles, inner) view."""
    dispatch(dy, "dY", NUMERIC)
    n, ax = tiles_and_axis(inputs, tiles, axis)
    ax = canonical_axis(ax, dy.ndim)
    if n == 0 or dy.shape[ax] % n:
        raise ShapeError("the gradient's axis is not a multiple of tiles", blob="dY",
                         expected=f"dY.shape[{ax}] divisible by tiles={n}",
                         found=list(dy.shape))
    shape = list(dy.shape)
    shape[ax] //= n
    outer, inner = size_to(shape, ax), size_from(shape, ax)
    dx = dy.reshape(outer, n, inner).sum(axis=1, dtype=dy.dtype).reshape(shape)
    return (dx,)


gradient_not_implemented_yet("TileGradient")
