"""NumpyTile: repeat a tensor along every axis, as numpy.tile with one count per
axis."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, tensor

MAX_ELEMENTS = 2**31 - 1  # the output size comes from data: checked before allocating


def _shape(data: TensorShape, repeats: TensorShape) -> tuple[TensorShape]:
    """data's rank, each size times a count from the data (Caffe2 declared no
    inference function): a symbol unless the size is 0."""
    if data.dims is None:
        return (TensorShape(None, data.dtype),)
    return (TensorShape(tuple(0 if d == 0 else f"{d}*repeats[{i}]"
                              for i, d in enumerate(data.dims)), data.dtype),)


@register_cpu_operator(
    "NumpyTile",
    inputs=["data", "repeats"],
    outputs=["tiled_data"],
    shape=_shape,
    example=Example({"data": np.array([[1, 2], [3, 4]], np.int32),
                     "repeats": np.array([2, 1], np.int64)},
                    {"tiled_data": np.array([[1, 2], [3, 4], [1, 2], [3, 4]], np.int32)}),
    doc="""numpy.tile(data, repeats): data (any type) repeated repeats[i] times along
each axis i. repeats is a 1-D int64 tensor with one count (>= 0) per axis of data.
Caffe2 registered no gradient for NumpyTile.

Example: data=[[1, 2], [3, 4]], repeats=[2, 1] -> tiled_data=[[1, 2], [3, 4], [1, 2],
[3, 4]]""",
)
def numpy_tile(data: np.ndarray, repeats: np.ndarray) -> tuple:
    """np.tile after Caffe2's checks and a size check."""
    tensor(data, "data")
    check_dtype(repeats, "repeats", np.int64)
    enforce_cmp(repeats.ndim == 1, "repeats.ndim() == 1", repeats.ndim, 1,
                "repeats input must be a 1-d tensor", blob="repeats")
    enforce_cmp(repeats.size == data.ndim, "repeats.size() == input.ndim()", repeats.size,
                data.ndim, "repeats input have the same number of elements as `inputs` "
                "has dimensions.", blob="repeats")
    counts = [int(r) for r in repeats]
    for r in counts:
        enforce_cmp(r >= 0, "repeats_data[i] >= 0", r, 0, blob="repeats")
    out = tuple(d * r for d, r in zip(data.shape, counts))
    if int(np.prod(out, dtype=object)) > MAX_ELEMENTS:
        raise EnforceError("NumpyTile's output is too large", blob="repeats",
                           expected=f"at most {MAX_ELEMENTS} elements", found=dims(out))
    return (np.tile(data, counts),)


gradient_not_implemented_yet("NumpyTile")
