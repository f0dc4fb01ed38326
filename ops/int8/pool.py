"""Int8MaxPool, Int8AveragePool and their Relu forms: 2-D pooling of NHWC uint8 Int8
tensors as Caffe2's TensorFlow Lite derived kernels computed it (the output keeps the
input's scale and zero point). Window geometry from ops/vision/_convpool.py."""

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

from ..vision import _convpool as cp
from ._q8 import Y_ARGS, int8_input, relu_floor

ORDER_MESSAGE = (
    "Int8 only supports NCHW order."  # sic: Caffe2's text, for NHWC-only ops
)
MAX_DEPTH = 2048  # the kernels' per-pixel accumulator buffer

ARGS = (
    [a for a in cp.CONV_POOL_ARGS if a.name != "order"]
    + [
        Arg(
            "order",
            str,
            "NCHW",
            doc='must be "NHWC"',
            check=lambda v: v == "NHWC",
            check_message=ORDER_MESSAGE,
            expected='"NHWC"',
        ),
    ]
    + Y_ARGS
)


def _kw(kw: dict) -> dict:
    return {k: kw[k] for k in cp.ARG_NAMES if k in kw}


def _shape(x: TensorShape, **kw) -> tuple[TensorShape]:
    u8 = np.dtype(np.uint8)
    if (
        x.dims is None
        or len(x.dims) != 4
        or any(isinstance(d, str) for d in x.dims[1:3])
    ):
        return (TensorShape(None, u8),)
    geo = cp.geometry(tuple(x.dims[1:3]), _kw(kw), pooling=True)
    return (TensorShape((x.dims[0], *geo.out, x.dims[3]), u8),)


def _check(q: Int8Tensor, kw: dict) -> None:
    if kw["order"] != "NHWC":
        raise ArgumentError(
            ORDER_MESSAGE, arg="order", expected='"NHWC"', found=kw["order"]
        )
    if kw["Y_zero_point"] != q.zero_point:
        raise EnforceError(
            f"Check failed: Y_offset == X.zero_point ({kw['Y_zero_point']} "
            f"vs. {q.zero_point})",
            arg="Y_zero_point",
            expected=q.zero_point,
            found=kw["Y_zero_point"],
        )
    if np.float32(kw["Y_scale"]) != np.float32(q.scale):
        raise EnforceError(
            f"Check failed: Y_scale == X.scale ({kw['Y_scale']} vs. {q.scale})",
            arg="Y_scale",
            expected=q.scale,
            found=kw["Y_scale"],
        )
    if q.data.ndim != 4:
        raise ShapeError(
            f"Check failed: X.t.dim() == 4 ({q.data.ndim} vs. 4)",
            blob="X",
            expected="an NHWC image of rank 4",
            found=list(q.data.shape),
        )
    if q.data.shape[3] > MAX_DEPTH:
        raise ShapeError(
            f"Check failed: depth <= kAccBufferMaxSize ({q.data.shape[3]} vs. "
            f"{MAX_DEPTH})",
            blob="X",
            expected=f"at most {MAX_DEPTH} channels",
            found=q.data.shape[3],
        )


def _windows(data: np.ndarray, kw: dict):
    """Windows (N, C, kH, kW, oH, oW) over the zero-padded image, and how many cells of
    each window lie inside the image (1, 1, 1, 1, oH, oW)."""
    geo = cp.geometry(data.shape[1:3], _kw(kw), pooling=True)
    x = cp.to_channels_first(data, "NHWC")
    cols = cp.windows(cp.pad_spatial(x, geo, 0), geo)
    inside = np.ones((1, 1, *data.shape[1:3]), np.int64)
    count = cp.windows(cp.pad_spatial(inside, geo, 0), geo).sum(axis=(2, 3))
    return cols, count


def int8_pool(q: Int8Tensor, kw: dict, kind: str, relu: bool) -> Int8Tensor:
    _check(q, kw)
    cols, count = _windows(q.data, kw)
    if kind == "max":
        # the accumulator starts at 0, so padding (read as 0) never wins
        y = cols.max(axis=(2, 3), initial=0).astype(np.int64)
    else:
        acc = cols.astype(np.int64).sum(axis=(2, 3)) % 65536  # a uint16 accumulator
        safe = np.maximum(count, 1)
        y = np.where(count > 0, (acc + count // 2) // safe, 0)
    low = relu_floor(q.scale, q.zero_point) if relu else 0
    y = np.clip(y, low, 255).astype(np.uint8)
    return Int8Tensor(cp.from_channels_first(y, "NHWC"), q.scale, q.zero_point)


_X = Int8Tensor(
    np.array([1, 2, 3, 4, 5, 6, 7, 8, 9], np.uint8).reshape(1, 3, 3, 1), 0.5, 4
)
_ARGS = {
    "kernel": 2,
    "stride": 2,
    "pad_t": 0,
    "pad_l": 0,
    "pad_b": 1,
    "pad_r": 1,
    "order": "NHWC",
    "Y_scale": 0.5,
    "Y_zero_point": 4,
}


def _register(op_type: str, kind: str, relu: bool, y: list, what: str) -> None:
    doc = f"""{what} pooling of an NHWC uint8 Int8 tensor over kernel windows (kernel,
stride, pads, legacy padding and global_pooling as the float pooling ops){
        ", then clamped below at the quantised 0 (Relu)" if relu else ""
    }. {
        "A window's value is its largest element (cells in the padding are not read; a window"
        " wholly in the padding gives 0)"
        if kind == "max"
        else "A window's value is the sum of its elements inside the image (a uint16 accumulator, "
        "as Caffe2's, wrapping past 65535) divided by their count, rounded half up; padding is"
        " not counted"
    }. Y keeps X's scale and zero point, and the Y_scale and Y_zero_point
arguments must equal them (Caffe2 CHECKs). Only NHWC order (Caffe2's refusal reads
"Int8 only supports NCHW order."); at most 2048 channels.

Example: X=[[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]] (scale 0.5, zero point
4) with kernel=2, stride=2, pad_b=1, pad_r=1, order="NHWC" -> Y={y}"""
    example = Example(
        {"X": _X}, {"Y": Int8Tensor(np.array(y, np.uint8), 0.5, 4)}, _ARGS
    )

    @register_cpu_operator(
        op_type,
        inputs=["X"],
        outputs=["Y"],
        args=ARGS,
        shape=_shape,
        example=example,
        doc=doc,
    )
    def kernel(x, **kw):
        return (int8_pool(int8_input(x, "X"), kw, kind, relu),)

    kernel.__name__ = kernel.__qualname__ = (
        "int8_" + kind + ("_pool_relu" if relu else "_pool")
    )
    gradient_not_implemented_yet(op_type)


_register("Int8MaxPool", "max", False, [[[[5], [6]], [[8], [9]]]], "Max")
_register("Int8MaxPoolRelu", "max", True, [[[[5], [6]], [[8], [9]]]], "Max")
_register("Int8AveragePool", "average", False, [[[[3], [5]], [[8], [9]]]], "Average")
_register("Int8AveragePoolRelu", "average", True, [[[[4], [5]], [[8], [9]]]], "Average")
