"""PrependDim: reshape X of shape (d0, d1, ...) to (dim_size, d0 / dim_size, d1, ...);
its gradient is a MergeDim."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, tensor

_DIM_SIZE = Arg("dim_size", int, 0, doc="the size of the dimension to prepend (> 0)",
                check=lambda v: v > 0,
                check_message="Argument dim_size must be greater than zero.",
                expected="dim_size > 0")


def _check(shape: tuple, dim_size: int) -> None:
    if dim_size <= 0:  # the default 0 too: Caffe2 checked it when creating the op
        raise ArgumentError("Argument dim_size must be greater than zero.", arg="dim_size",
                            expected="dim_size > 0", found=dim_size)
    if len(shape) == 0:
        raise ShapeError("Input must be at least 1D.", blob="data", expected="1-D or more",
                         found="a 0-D tensor")
    if isinstance(shape[0], int) and shape[0] % dim_size:
        raise EnforceError("First dimension must be multiple of prepend_dim. Current first "
                           f"dimension: {shape[0]}", blob="data",
                           expected=f"a multiple of {dim_size}", found=dims(shape))


def _shape(x: TensorShape, *, dim_size: int) -> tuple[TensorShape]:
    """(dim_size, d0 / dim_size, d1, ...) (Caffe2 declared no inference function)."""
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    _check(x.dims, dim_size)
    d0 = x.dims[0]
    rest = d0 // dim_size if isinstance(d0, int) else f"{d0}/{dim_size}"
    return (TensorShape((dim_size, rest) + tuple(x.dims[1:]), x.dtype),)


@register_cpu_operator(
    "PrependDim",
    inputs=["data"],
    outputs=["reshaped"],
    args=[_DIM_SIZE],
    allow_inplace=[(0, 0)],
    shape=_shape,
    example=Example({"data": np.arange(12, dtype=np.float32).reshape(6, 2)},
                    {"reshaped": np.arange(12, dtype=np.float32).reshape(3, 2, 2)},
                    {"dim_size": 3}),
    doc="""Reshape data (any type, at least 1-D) by prepending a dimension of size
``dim_size`` and dividing the first dimension by it: (d0, d1, ...) becomes (dim_size,
d0 / dim_size, d1, ...), the elements in order. d0 must be a multiple of dim_size.
In-place use is allowed.

Example: data of shape (6, 2), dim_size=3 -> reshaped of shape (3, 2, 2)""",
)
def prepend_dim(x: np.ndarray, *, dim_size: int) -> tuple:
    """A reshape after Caffe2's checks."""
    tensor(x, "data")
    _check(x.shape, dim_size)
    return (x.reshape((dim_size, x.shape[0] // dim_size) + x.shape[1:]).copy(),)


@register_gradient("PrependDim", copy_arguments=False)
def prepend_dim_gradient_maker(g):
    """``MergeDim([reshaped_grad]) -> [data_grad]``, without PrependDim's arguments (as
    Caffe2's maker said: they are not needed in backprop)."""
    return [g.op_def("MergeDim", [g.GO(0)], [g.GI(0)])]
