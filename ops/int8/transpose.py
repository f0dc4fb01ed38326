"""Int8Transpose: permute the axes of an Int8 tensor, keeping its quantisation."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp
from ..shape.transpose import _AXES
from ..shape.transpose import _shape as transpose_shape
from ._q8 import Y_ARGS, int8_input


def _shape(x: TensorShape, *, axes: list[int], **kwargs) -> tuple[TensorShape]:
    (y,) = transpose_shape(x, axes=axes)
    return (y.with_dtype(np.dtype(np.uint8)),)


@register_cpu_operator(
    "Int8Transpose",
    inputs=["X"],
    outputs=["Y"],
    args=[_AXES, *Y_ARGS],
    shape=_shape,
    example=Example(
        {"X": Int8Tensor(np.arange(6, dtype=np.uint8).reshape(2, 3), 0.5, 2)},
        {"Y": Int8Tensor(np.arange(6, dtype=np.uint8).reshape(2, 3).T.copy(), 0.5, 2)},
        {"Y_scale": 0.5, "Y_zero_point": 2},
    ),
    doc="""Permute the axes of an Int8 tensor like Transpose (`axes`, by default
reversed). Y keeps X's scale and zero point, which Y_scale and Y_zero_point must equal
("Y_zero_point == X.zero_point", "Y_scale == X.scale").

Example: X=[[0, 1, 2], [3, 4, 5]] (scale 0.5, zero point 2) -> Y=[[0, 3], [1, 4],
[2, 5]]""",
)
def int8_transpose(x, *, axes: list[int], Y_scale: float, Y_zero_point: int) -> tuple:
    q = int8_input(x, "X")
    if Y_zero_point != q.zero_point:
        raise EnforceError(
            f"Y_zero_point == X.zero_point. {Y_zero_point} vs {q.zero_point}",
            arg="Y_zero_point",
            expected=q.zero_point,
            found=Y_zero_point,
        )
    if np.float32(Y_scale) != np.float32(q.scale):
        raise EnforceError(
            f"Y_scale == X.scale. {Y_scale} vs {q.scale}",
            arg="Y_scale",
            expected=q.scale,
            found=Y_scale,
        )
    if axes:
        enforce_cmp(
            q.data.ndim == len(axes),
            "ndim == axes_.size()",
            q.data.ndim,
            len(axes),
            blob="X",
        )
    return (
        Int8Tensor(np.transpose(q.data, axes or None).copy(), q.scale, q.zero_point),
    )


gradient_not_implemented_yet("Int8Transpose")
