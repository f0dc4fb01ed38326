"""Int8MaxPool, Int8AveragePool and their Relu forms: 2-D pooling of NHWC uint8 Int8
tensors as Caffe2 ran them through QNNPACK. Window geometry (output size, pads, legacy
padding, global pooling) from ops/vision/_convpool.py."""

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
from ._same_q import same_quantisation

ORDER_MESSAGE = "Int8 only supports NHWC order."
AVG_FAILURE = "failed to create QNNPACK Average Pooling operator"

ARGS = [a for a in cp.CONV_POOL_ARGS if a.name != "order"] + [
    Arg(
        "order",
        str,
        "NCHW",
        doc='must be "NHWC"',
        check=lambda v: v == "NHWC",
        check_message=ORDER_MESSAGE,
        expected='"NHWC"',
    ),
    *Y_ARGS,
]


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


def _check(q: Int8Tensor, kw: dict) -> cp.Geometry:
    if kw["order"] != "NHWC":
        raise ArgumentError(
            ORDER_MESSAGE, arg="order", expected='"NHWC"', found=kw["order"]
        )
    if q.data.ndim != 4:
        raise ShapeError(
            f"Check failed: X.t.dim() == 4 ({q.data.ndim} vs. 4)",
            blob="X",
            expected="an NHWC image of rank 4",
            found=list(q.data.shape),
        )
    return cp.geometry(q.data.shape[1:3], _kw(kw), pooling=True)


def max_pool(q: Int8Tensor, geo: cp.Geometry, low: int) -> np.ndarray:
    """QNNPACK's max pooling: a window reads input rows/columns clamped into the image
    (a padded position reads the nearest border pixel), then the result is clamped."""
    rows = _clamped(
        geo.out[0], geo.kernel[0], geo.stride[0], geo.pad_head[0], q.data.shape[1]
    )
    cols = _clamped(
        geo.out[1], geo.kernel[1], geo.stride[1], geo.pad_head[1], q.data.shape[2]
    )
    win = q.data[
        :, rows[:, :, None, None], cols[None, None, :, :], :
    ]  # N,oH,kH,oW,kW,C
    return np.clip(win.max(axis=(2, 4)), low, 255).astype(np.uint8)


def _clamped(out: int, k: int, stride: int, pad: int, size: int) -> np.ndarray:
    pos = np.arange(out)[:, None] * stride + np.arange(k)[None, :]
    return np.minimum(np.maximum(pos - pad, 0), size - 1)


def avgpool_requantize(
    acc: np.ndarray, scale: np.float32, zero_point: int, low: int, high: int
) -> np.ndarray:
    """QNNPACK's average-pooling requantisation: the float scale's 24-bit mantissa as
    multiplier, a right shift with rounding half up (half away from zero below 0)."""
    bits = int(np.float32(scale).view(np.uint32))
    multiplier = (bits & 0x007FFFFF) | 0x00800000
    shift = 127 + 23 - (bits >> 23)
    acc = np.asarray(acc, np.int64)
    prod = acc * multiplier - (acc < 0)
    out = (prod + (1 << (shift - 1))) >> shift
    return (np.clip(out, low - zero_point, high - zero_point) + zero_point).astype(
        np.uint8
    )


def average_pool(
    q: Int8Tensor, geo: cp.Geometry, y_scale: float, y_zp: int, low: int
) -> np.ndarray:
    """QNNPACK's average pooling: padding reads the input zero point and every window
    divides by the full kernel size; sum - zero_point * size is requantised by
    X.scale / (Y_scale * size)."""
    size = geo.kernel[0] * geo.kernel[1]
    ratio = np.float32(q.scale) / np.float32(y_scale)
    if not (2.0**-8 <= ratio < 2.0**8):
        raise EnforceError(
            AVG_FAILURE,
            expected="X.scale / Y_scale in [2**-8, 2**8)",
            found=float(ratio),
        )
    scale = np.float32(q.scale) / (np.float32(y_scale) * np.float32(size))
    x = cp.to_channels_first(q.data, "NHWC").astype(np.int64)
    win = cp.windows(cp.pad_spatial(x, geo, q.zero_point), geo)
    acc = win.sum(axis=(2, 3)) - q.zero_point * size
    y = avgpool_requantize(acc, scale, y_zp, low, 255)
    return cp.from_channels_first(y, "NHWC")


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

_MAX_DOC = """Max pooling of an NHWC uint8 Int8 tensor over kernel windows (kernel,
stride, pads, legacy padding and global_pooling as the float pooling ops){relu}, as
QNNPACK computes it: a window position in the padding reads the nearest pixel of the
image. Y keeps X's scale and zero point, which the Y_scale and Y_zero_point arguments
must equal (Caffe2 CHECKs). Only NHWC order ("Int8 only supports NHWC order.").

Example: X=[[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]] (scale 0.5, zero
point 4) with kernel=2, stride=2, pad_b=1, pad_r=1, order="NHWC" -> Y={y}"""

_AVG_DOC = """Average pooling of an NHWC uint8 Int8 tensor over kernel windows (kernel,
stride, pads, legacy padding and global_pooling as the float pooling ops){relu}, as
QNNPACK computes it: padding counts as the input zero point (every window is divided
by the full kernel size), and sum(X - X.zero_point) is requantised to Y_scale and
Y_zero_point with the multiplier X.scale / (Y_scale * kernel size) (its float32
mantissa, rounding to nearest, ties away from zero). X.scale / Y_scale must lie in
[2**-8, 2**8) ("failed to create QNNPACK Average Pooling operator"). Only NHWC order
("Int8 only supports NHWC order.").

Example: X=[[[[1], [2], [3]], [[4], [5], [6]], [[7], [8], [9]]]] (scale 0.5, zero
point 4) with kernel=2, stride=2, pad_b=1, pad_r=1, order="NHWC", Y_scale=0.5,
Y_zero_point=4 -> Y={y} (the sums relative to 4 are -4, 1, 7, 5 over 4 cells)"""


def _register(op_type: str, kind: str, relu: bool, y: list) -> None:
    doc = (_MAX_DOC if kind == "max" else _AVG_DOC).format(
        relu=", then clamped below at the quantised 0 (Relu)" if relu else "", y=y
    )
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
        q = int8_input(x, "X")
        geo = _check(q, kw)
        y_scale, y_zp = kw["Y_scale"], kw["Y_zero_point"]
        if kind == "max":
            same_quantisation(q, y_scale, y_zp)
            low = relu_floor(q.scale, q.zero_point) if relu else 0
            return (Int8Tensor(max_pool(q, geo, low), q.scale, q.zero_point),)
        low = relu_floor(y_scale, y_zp) if relu else 0
        out = average_pool(q, geo, y_scale, y_zp, low)
        return (Int8Tensor(out, float(np.float32(y_scale)), int(y_zp)),)

    kernel.__name__ = kernel.__qualname__ = (
        "int8_" + kind + ("_pool_relu" if relu else "_pool")
    )
    gradient_not_implemented_yet(op_type)


_register("Int8MaxPool", "max", False, [[[[5], [6]], [[8], [9]]]])
_register("Int8MaxPoolRelu", "max", True, [[[[5], [6]], [[8], [9]]]])
_register("Int8AveragePool", "average", False, [[[[3], [4]], [[6], [5]]]])
_register("Int8AveragePoolRelu", "average", True, [[[[4], [4]], [[6], [5]]]])
