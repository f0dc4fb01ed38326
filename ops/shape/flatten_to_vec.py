"""FlattenToVec: a tensor as a 1-D vector. Its gradient is a ResizeLike back to the
input's shape."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape, dim_product

from .._dense import enforce_cmp, tensor


def _shape(x: TensorShape) -> tuple[TensorShape]:
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    enforce_cmp(len(x.dims) >= 1, "input.dim() >= 1", len(x.dims), 1,
                "The rank of the tensor must be >= 1.", blob="input")
    return (TensorShape((dim_product(x.dims),), x.dtype),)


@register_cpu_operator(
    "FlattenToVec",
    inputs=["input"],
    outputs=["output"],
    shape=_shape,
    example=Example({"input": np.array([[1, 2, 3], [4, 5, 6]], np.float32)},
                    {"output": np.array([1, 2, 3, 4, 5, 6], np.float32)}),
    doc="""Flatten input (any type, rank >= 1) into a 1-D vector in row-major order.

Example: input=[[1, 2, 3], [4, 5, 6]] -> output=[1, 2, 3, 4, 5, 6]""",
)
def flatten_to_vec(x: np.ndarray) -> tuple:
    """x.reshape(-1) for rank >= 1."""
    tensor(x, "input")
    enforce_cmp(x.ndim >= 1, "input.dim() >= 1", x.ndim, 1,
                "The rank of the tensor must be >= 1.", blob="input")
    return (x.reshape(x.size),)


@register_gradient("FlattenToVec")
def flatten_to_vec_gradient_maker(g):
    """``ResizeLike([output_grad, input]) -> [input_grad]``."""
    return [g.op_def("ResizeLike", [g.GO(0), g.I(0)], [g.GI(0)])]
