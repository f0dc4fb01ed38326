"""Int8Flatten: an Int8 tensor as a 2-D matrix split at `axis`."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape, dim_product

from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation


def _shape(x: TensorShape, *, axis: int, **kwargs) -> tuple[TensorShape]:
    u8 = np.dtype(np.uint8)
    if x.dims is None or not 0 <= axis <= len(x.dims):
        return (TensorShape(None, u8),)
    return (TensorShape((dim_product(x.dims[:axis]), dim_product(x.dims[axis:])), u8),)


@register_cpu_operator(
    "Int8Flatten",
    inputs=["input"],
    outputs=["output"],
    args=Y_ARGS + [Arg("axis", int, 1, doc="dimensions before it form the rows")],
    shape=_shape,
    example=Example(
        {"input": Int8Tensor(np.arange(12, dtype=np.uint8).reshape(2, 3, 2), 1.0, 0)},
        {"output": Int8Tensor(np.arange(12, dtype=np.uint8).reshape(2, 6), 1.0, 0)},
        {"Y_scale": 1.0, "Y_zero_point": 0},
    ),
    doc="""Flatten an Int8 tensor of shape (d0, ..., dn) to (d0 * ... * d(axis-1),
d(axis) * ... * dn), keeping its scale and zero point (which the Y_scale and
Y_zero_point arguments must equal). axis must lie in [0, rank] ("The rank of the tensor
must be >= axis."; Caffe2 did not check a negative axis).

Example: input of shape (2, 3, 2) holding 0..11 -> output of shape (2, 6) holding
0..11""",
)
def int8_flatten(x, *, Y_scale: float, Y_zero_point: int, axis: int) -> tuple:
    q = int8_input(x, "input")
    same_quantisation(q, Y_scale, Y_zero_point)
    if not 0 <= axis <= q.data.ndim:
        raise ShapeError(
            f"X.t.sizes().size() >= axis_. {q.data.ndim} vs {axis}. The rank "
            "of the tensor must be >= axis.",
            blob="input",
            expected=f"0 <= axis <= {q.data.ndim}",
            found=axis,
        )
    rows = int(np.prod(q.data.shape[:axis], dtype=np.int64))
    cols = int(np.prod(q.data.shape[axis:], dtype=np.int64))
    return (Int8Tensor(q.data.reshape(rows, cols), q.scale, q.zero_point),)


gradient_not_implemented_yet("Int8Flatten")
