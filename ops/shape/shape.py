"""Shape: the dimensions of a tensor (all of them, or those of ``axes``) as int64."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import tensor


def _shape(data: TensorShape, *, axes: list[int]) -> tuple[TensorShape]:
    n = len(axes) if axes else data.ndim
    return (TensorShape(None if n is None else (n,), np.int64),)


@register_cpu_operator(
    "Shape",
    inputs=["data"],
    outputs=["shape"],
    args=[Arg("axes", "ints", [], doc="only these dimensions, in this order")],
    shape=_shape,
    example=Example({"data": np.zeros((2, 3, 4), np.float32)},
                    {"shape": np.array([4, 2], np.int64)}, {"axes": [2, 0]}),
    doc="""A 1-D int64 tensor with the shape of data; with ``axes``, only those
dimensions in the order given (each axis in [0, rank), no negative axes). Works for a
tensor of any type.

Example: data of shape (2, 3, 4) with axes=[2, 0] -> shape=[4, 2]""",
)
def shape(data: np.ndarray, *, axes: list[int]) -> tuple:
    """The dimensions as an int64 vector."""
    tensor(data, "data")
    if not axes:
        return (np.array(data.shape, dtype=np.int64),)
    for axis in axes:
        if axis >= data.ndim:
            raise ShapeError(f"axis < numDims. {axis} vs {data.ndim}. Axis out of range",
                             arg="axes", expected=f"axes in [0, {data.ndim})", found=axes)
        if axis < 0:
            raise ShapeError(f"axis >= 0. {axis} vs 0. Each axis should be non-negative",
                             arg="axes", expected=f"axes in [0, {data.ndim})", found=axes)
    return (np.array([data.shape[a] for a in axes], dtype=np.int64),)


should_not_do_gradient("Shape")
