"""NHWC2NCHW: move the last (channel) axis of an N H_1 ... H_k C tensor to position 1;
its gradient is an NCHW2NHWC."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, float_tensor


def _shape(data: TensorShape) -> tuple[TensorShape]:
    if data.dims is None:
        return (TensorShape(None, data.dtype),)
    enforce_cmp(len(data.dims) >= 3, "in[0].dims_size() >= 3", len(data.dims), 3,
                "Input for NHWC2NCHW must be >= 3 dimensional", blob="data")
    d = data.dims
    return (TensorShape((d[0], d[-1]) + tuple(d[1:-1]), data.dtype),)


@register_cpu_operator(
    "NHWC2NCHW",
    inputs=["data"],
    outputs=["output"],
    shape=_shape,
    example=Example({"data": np.arange(6, dtype=np.float32).reshape(1, 3, 2)},
                    {"output": np.array([[[0, 2, 4], [1, 3, 5]]], np.float32)}),
    doc="""Reorder a float tensor of rank >= 3 from N H_1 ... H_k C to N C H_1 ... H_k
(the last axis moves to position 1).

Example: data=[[[0, 1], [2, 3], [4, 5]]] (shape (1, 3, 2)) ->
output=[[[0, 2, 4], [1, 3, 5]]] (shape (1, 2, 3))""",
)
def nhwc2nchw(x: np.ndarray) -> tuple:
    """np.moveaxis(x, -1, 1), copied contiguous."""
    float_tensor(x, "data")
    enforce_cmp(x.ndim >= 3, "ndim >= 3", x.ndim, 3, blob="data")
    return (np.moveaxis(x, -1, 1).copy(),)


@register_gradient("NHWC2NCHW")
def nhwc2nchw_gradient_maker(g):
    """``NCHW2NHWC([output_grad]) -> [data_grad]``."""
    return [g.op_def("NCHW2NHWC", [g.GO(0)], [g.GI(0)])]
