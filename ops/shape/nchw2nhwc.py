"""NCHW2NHWC: move the channel axis (1) of an N C H_1 ... H_k tensor to the end; its
gradient is an NHWC2NCHW."""

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
                "Input for NCHW2NHWC must be >= 3 dimensional", blob="data")
    d = data.dims
    return (TensorShape((d[0],) + tuple(d[2:]) + (d[1],), data.dtype),)


@register_cpu_operator(
    "NCHW2NHWC",
    inputs=["data"],
    outputs=["output"],
    shape=_shape,
    example=Example({"data": np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2)},
                    {"output": np.array([[[[0, 4], [1, 5]], [[2, 6], [3, 7]]]], np.float32)}),
    doc="""Reorder a float tensor of rank >= 3 from N C H_1 ... H_k to N H_1 ... H_k C
(the channel axis moves to the end).

Example: data of shape (1, 2, 2, 2) holding 0..7 -> output of shape (1, 2, 2, 2) =
[[[[0, 4], [1, 5]], [[2, 6], [3, 7]]]]""",
)
def nchw2nhwc(x: np.ndarray) -> tuple:
    """np.moveaxis(x, 1, -1), copied contiguous."""
    float_tensor(x, "data")
    enforce_cmp(x.ndim >= 3, "ndim >= 3", x.ndim, 3, blob="data")
    return (np.moveaxis(x, 1, -1).copy(),)


@register_gradient("NCHW2NHWC")
def nchw2nhwc_gradient_maker(g):
    """``NHWC2NCHW([output_grad]) -> [data_grad]``."""
    return [g.op_def("NHWC2NCHW", [g.GO(0)], [g.GI(0)])]
