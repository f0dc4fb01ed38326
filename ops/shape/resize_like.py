"""ResizeLike: the data of the first input in the shape of the second."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape, dim_product

from .._dense import enforce_cmp, tensor


def _shape(data: TensorShape, shape_tensor: TensorShape) -> tuple[TensorShape]:
    if data.known and shape_tensor.known:
        enforce_cmp(dim_product(data.dims) == dim_product(shape_tensor.dims),
                    "input0.numel() == input1.numel()", dim_product(data.dims),
                    dim_product(shape_tensor.dims), blob="shape_tensor")
    return (TensorShape(shape_tensor.dims, data.dtype),)


@register_cpu_operator(
    "ResizeLike",
    inputs=["data", "shape_tensor"],
    outputs=["output"],
    shape=_shape,
    example=Example({"data": np.array([1, 2, 3, 4, 5, 6], np.int32),
                     "shape_tensor": np.zeros((2, 3), np.float32)},
                    {"output": np.array([[1, 2, 3], [4, 5, 6]], np.int32)}),
    doc="""The elements of data (any type) in the shape of shape_tensor (whose values
are not read); both must have as many elements.

Example: data=[1, 2, 3, 4, 5, 6], shape_tensor of shape (2, 3) ->
output=[[1, 2, 3], [4, 5, 6]]""",
)
def resize_like(data: np.ndarray, shape_tensor: np.ndarray) -> tuple:
    """data reshaped to shape_tensor's shape."""
    tensor(data, "data")
    tensor(shape_tensor, "shape_tensor")
    enforce_cmp(data.size == shape_tensor.size, "input0.numel() == input1.numel()",
                data.size, shape_tensor.size, blob="shape_tensor")
    return (data.reshape(shape_tensor.shape),)


should_not_do_gradient("ResizeLike")
