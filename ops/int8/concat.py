"""Int8Concat: concatenation of Int8 tensors along one axis (the first input's
quantisation for all)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims
from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation


def _axis(axis, order: str) -> int:
    if axis is not None:
        return axis
    return {"NHWC": 3, "NCHW": 1}.get(order, 0)


def _shape(
    *xs: TensorShape, axis=None, order: str = "", num_outputs: int = 1, **kwargs
):
    u8 = np.dtype(np.uint8)
    ax = _axis(axis, order)
    out = TensorShape(None, u8)
    if all(x.dims is not None for x in xs) and xs and 0 <= ax < len(xs[0].dims):
        total = [x.dims[ax] for x in xs]
        size = (
            sum(total)
            if all(isinstance(t, int) for t in total)
            else "+".join(map(str, total))
        )
        out = TensorShape(
            tuple(xs[0].dims[:ax]) + (size,) + tuple(xs[0].dims[ax + 1 :]), u8
        )
    info = TensorShape((len(xs),), np.dtype(np.int32))
    return (out, info)[:num_outputs]


@register_cpu_operator(
    "Int8Concat",
    inputs=["X"],
    outputs=["concat_result", "split_info"],
    num_inputs=(1, None),
    num_outputs=(1, 2),
    args=Y_ARGS
    + [
        Arg("axis", int, None, doc="default 3 with order NHWC, 1 with NCHW, else 0"),
        Arg("add_axis", int, 0, doc="refused: Caffe2's Int8 kernel ignored it"),
        Arg("order", str, "", doc='"NHWC", "NCHW" or unset'),
    ],
    shape=_shape,
    example=Example(
        {
            "A": Int8Tensor(np.array([[1, 2]], np.uint8), 0.5, 1),
            "B": Int8Tensor(np.array([[3, 4]], np.uint8), 0.5, 1),
        },
        {
            "concat_result": Int8Tensor(np.array([[1, 2, 3, 4]], np.uint8), 0.5, 1),
            "split_info": np.array([2, 2], np.int32),
        },
        {"axis": 1, "Y_scale": 0.5, "Y_zero_point": 1},
    ),
    doc="""Concatenate Int8 tensors along `axis` (by default 3 for order "NHWC", 1 for
"NCHW", else 0). The output takes the first input's scale and zero point, which the
Y_scale and Y_zero_point arguments must equal (Caffe2 CHECKs; the other inputs' are
not looked at, their bytes are copied). Every other dimension must match (with order
NHWC the inputs must be 4-D). split_info, when asked for, holds each input's size along
the axis (int32; Caffe2 declared it but never wrote it). add_axis is refused (Caffe2's
Int8 kernel ignored it).

Example: A=[[1, 2]], B=[[3, 4]] (scale 0.5, zero point 1) with axis=1 ->
concat_result=[[1, 2, 3, 4]], split_info=[2, 2]""",
)
def int8_concat(
    *xs,
    Y_scale: float,
    Y_zero_point: int,
    axis,
    add_axis: int,
    order: str,
    num_outputs: int,
) -> tuple:
    qs = [int8_input(x, f"X{i}" if i else "X") for i, x in enumerate(xs)]
    if add_axis:
        raise ArgumentError(
            "add_axis is not supported by Int8Concat",
            arg="add_axis",
            expected=0,
            found=add_axis,
        )
    q0 = qs[0]
    same_quantisation(q0, Y_scale, Y_zero_point)
    ax = _axis(axis, order)
    nd = q0.data.ndim
    if order == "NHWC" and nd != 4:
        raise ShapeError(
            f"Check failed: Y_dims.size() == 4 ({nd} vs. 4)",
            blob="X",
            expected="4-D inputs with order NHWC",
            found=dims(q0.data.shape),
        )
    if not 0 <= ax < nd:
        raise EnforceError(
            f"axis {ax} out of range for rank {nd}",
            arg="axis",
            expected=f"0 <= axis < {nd}",
            found=ax,
        )
    for i, q in enumerate(qs[1:], 1):
        if q.data.ndim != nd:
            raise ShapeError(
                f"Check failed: Xi.t.dim() == Y_dims.size() ({q.data.ndim} vs. {nd})",
                blob=f"X{i}",
                expected=f"rank {nd}",
                found=dims(q.data.shape),
            )
        for j in range(nd):
            if j != ax and q.data.shape[j] != q0.data.shape[j]:
                raise ShapeError(
                    f"Check failed: Xi.t.size(j) == Y_dims[j] ({q.data.shape[j]} "
                    f"vs. {q0.data.shape[j]})",
                    blob=f"X{i}",
                    expected=dims(q0.data.shape),
                    found=dims(q.data.shape),
                )
    y = np.concatenate([q.data for q in qs], axis=ax)
    out = (Int8Tensor(y, q0.scale, q0.zero_point),)
    if num_outputs > 1:
        out += (np.array([q.data.shape[ax] for q in qs], np.int32),)
    return out


gradient_not_implemented_yet("Int8Concat")
