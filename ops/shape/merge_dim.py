"""MergeDim: merge the first two dimensions of X into one of size d0 * d1."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import tensor


def _shape(x: TensorShape) -> tuple[TensorShape]:
    """(d0 * d1, d2, ...) (Caffe2 declared no inference function)."""
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    if len(x.dims) < 2:
        raise ShapeError("Input must be at least 2D.", blob="data", expected="2-D or more",
                         found=f"{len(x.dims)}-D")
    d0, d1 = x.dims[:2]
    merged = d0 * d1 if isinstance(d0, int) and isinstance(d1, int) else f"{d0}*{d1}"
    return (TensorShape((merged,) + tuple(x.dims[2:]), x.dtype),)


@register_cpu_operator(
    "MergeDim",
    inputs=["data"],
    outputs=["reshaped"],
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example({"data": np.arange(12, dtype=np.int32).reshape(3, 2, 2)},
                    {"reshaped": np.arange(12, dtype=np.int32).reshape(6, 2)}),
    doc="""Reshape data (any type, at least 2-D) by merging its first two dimensions:
(d0, d1, d2, ...) becomes (d0 * d1, d2, ...), the elements in order. In-place use is
allowed. It is PrependDim's gradient; Caffe2 registered no gradient for MergeDim
itself.

Example: data of shape (3, 2, 2) -> reshaped of shape (6, 2)""",
)
def merge_dim(x: np.ndarray) -> tuple:
    """A reshape after Caffe2's rank check."""
    tensor(x, "data")
    if x.ndim < 2:
        raise ShapeError("Input must be at least 2D.", blob="data", expected="2-D or more",
                         found=f"{x.ndim}-D")
    return (x.reshape((x.shape[0] * x.shape[1],) + x.shape[2:]).copy(),)


gradient_not_implemented_yet("MergeDim")
