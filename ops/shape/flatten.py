"""Flatten: a tensor as a matrix, the dimensions before ``axis`` as rows and the rest
as columns. Its gradient is a ResizeLike back to the input's shape."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape, dim_product

from .._dense import enforce_cmp, size_from, size_to, tensor

_AXIS = Arg("axis", int, 1, doc="dimensions before it become rows, the rest columns",
            check=lambda a: a >= 0, check_message="axis must be non-negative",
            expected="axis >= 0")


def _shape(x: TensorShape, *, axis: int) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    enforce_cmp(len(x.dims) >= axis, "input.dim() >= axis_", len(x.dims), axis,
                "The rank of the tensor must be >= axis.", blob="X")
    return (TensorShape((dim_product(x.dims[:axis]), dim_product(x.dims[axis:])), x.dtype),)


@register_cpu_operator(
    "Flatten",
    inputs=["X"],
    outputs=["Y"],
    args=[_AXIS],
    shape=_shape,
    example=Example({"X": np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)},
                    {"Y": np.arange(12, dtype=np.float32).reshape(1, 12)}),
    doc="""Flatten X (any type, rank >= axis) into a matrix of shape
(d_0 * ... * d_{axis-1}, d_axis * ... * d_n); axis defaults to 1.

Example: X of shape (1, 3, 2, 2) holding 0..11 -> Y=[[0, 1, ..., 11]] of shape (1, 12)""",
)
def flatten(x: np.ndarray, *, axis: int) -> tuple:
    """A reshape to (size before axis, size from axis)."""
    tensor(x, "X")
    enforce_cmp(x.ndim >= axis, "input.dim() >= axis_", x.ndim, axis,
                "The rank of the tensor must be >= axis.", blob="X")
    return (x.reshape(size_to(x.shape, axis), size_from(x.shape, axis)),)


@register_gradient("Flatten")
def flatten_gradient_maker(g):
    """``ResizeLike([Y_grad, X]) -> [X_grad]``."""
    return [g.op_def("ResizeLike", [g.GO(0), g.I(0)], [g.GI(0)])]

