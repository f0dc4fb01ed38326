"""Int8Conv and Int8ConvRelu: quantised 2-D convolution in NHWC order (uint8 input and
filter, int32 bias, int32 accumulation, QNNPACK requantisation; the Relu form clamps
at the quantised zero). The window geometry is the float convolution's
(ops/vision/_convpool.py)."""

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
from caffe2lite.schema.shapes import UNKNOWN, Cost, TensorShape

from ..vision import _convpool as cp
from ._q8 import Y_ARGS, int8_input, qnnp_requantize, qnnp_scale, relu_floor

FAILURE = "failed to create QNNPACK convolution object"
NHWC_ONLY = "Int8Conv only supports NHWC order"

ARGS = (
    [a for a in cp.CONV_POOL_ARGS if a.name != "order"]
    + [
        Arg(
            "order",
            str,
            "NCHW",
            doc='must be "NHWC"',
            check=lambda v: v == "NHWC",
            check_message=NHWC_ONLY,
            expected='"NHWC"',
        ),
        Arg(
            "group",
            int,
            1,
            doc="number of channel groups",
            check=lambda g: g >= 1,
            check_message="group must be positive",
            expected="a positive group",
        ),
    ]
    + Y_ARGS
)


def _kw(kw: dict) -> dict:
    return {k: kw[k] for k in cp.ARG_NAMES if k in kw}


def _shape(x: TensorShape, w: TensorShape, b: TensorShape = UNKNOWN, **kw):
    u8 = np.dtype(np.uint8)
    if (
        x.dims is None
        or w.dims is None
        or len(x.dims) != 4
        or len(w.dims) != 4
        or any(isinstance(d, str) for d in (*x.dims[1:3], *w.dims[1:3]))
    ):
        return (TensorShape(None, u8),)
    geo = cp.geometry(tuple(x.dims[1:3]), _kw(kw), kernel_from=tuple(w.dims[1:3]))
    return (TensorShape((x.dims[0], *geo.out, w.dims[0]), u8),)


def _cost(x: TensorShape, w: TensorShape, b: TensorShape = UNKNOWN, *, outputs, **kw):
    (y,) = outputs
    if y.dims is None or w.dims is None or any(isinstance(d, str) for d in y.dims):
        return Cost(0, 0, 0, 0)
    n_out = int(np.prod(y.dims))
    k = int(np.prod(w.dims[1:]))
    params = int(np.prod(w.dims)) + (w.dims[0] * 4)
    x_bytes = (
        int(np.prod(x.dims))
        if x.dims and not any(isinstance(d, str) for d in x.dims)
        else 0
    )
    return Cost(2 * n_out * k, x_bytes + params, n_out, params)


def _check(
    qx: Int8Tensor, qw: Int8Tensor, qb: Int8Tensor, group: int
) -> tuple[int, int]:
    if qx.data.ndim != 4:
        raise ShapeError(
            "Int8Conv needs an NHWC image of rank 4",
            blob="X",
            expected="rank 4 (N, H, W, C)",
            found=list(qx.data.shape),
        )
    if qw.data.ndim != 4:
        raise ShapeError(
            "Int8Conv needs a filter of rank 4 (M, kH, kW, C/group)",
            blob="filter",
            expected="rank 4",
            found=list(qw.data.shape),
        )
    c, m = qx.data.shape[3], qw.data.shape[0]
    if c % group:
        raise EnforceError(
            "number of input channels must be divisible by groups count",
            blob="X",
            expected=f"a multiple of {group}",
            found=c,
        )
    if m % group:
        raise EnforceError(
            "number of output channels must be divisible by groups count",
            blob="filter",
            expected=f"a multiple of {group}",
            found=m,
        )
    if qw.data.shape[3] * group != c:
        raise ShapeError(
            f"The filter has {qw.data.shape[3]} channels per group, the input "
            f"{c} channels in {group} groups",
            blob="filter",
            expected=c // group,
            found=qw.data.shape[3],
        )
    if qb.data.size != m:
        raise ShapeError(
            f"bias must have {m} values, one per output channel",
            blob="bias",
            expected=m,
            found=qb.data.size,
        )
    return c, m


def int8_conv_forward(
    qx: Int8Tensor, qw: Int8Tensor, qb: Int8Tensor, kw: dict, relu: bool
) -> Int8Tensor:
    group, y_scale, y_zp = kw["group"], kw["Y_scale"], kw["Y_zero_point"]
    c, m = _check(qx, qw, qb, group)
    geo = cp.geometry(qx.data.shape[1:3], _kw(kw), kernel_from=qw.data.shape[1:3])
    scale = qnnp_scale(qx.scale, qw.scale, y_scale, FAILURE, "convolution")
    n = qx.data.shape[0]
    # channels first, shifted by the zero point: padding is then 0 (QNNPACK pads with
    # the input zero point)
    xs = cp.to_channels_first(qx.data, "NHWC").astype(np.int64) - qx.zero_point
    cols = cp.windows(cp.pad_spatial(xs, geo, 0), geo)  # (N, C, kH, kW, oH, oW)
    oh, ow = geo.out
    cg, mg = c // group, m // group
    cols = cols.reshape(n, group, cg, *geo.kernel, oh, ow)
    ws = qw.data.astype(np.int64).reshape(group, mg, *geo.kernel, cg) - qw.zero_point
    acc = np.einsum("ngcabij,gmabc->nijgm", cols, ws, optimize=True).reshape(
        n, oh, ow, m
    )
    acc = acc + qb.data.astype(np.int64).reshape(m)
    low = relu_floor(y_scale, y_zp) if relu else 0
    y = qnnp_requantize(acc, scale, y_zp, low, 255)
    return Int8Tensor(y, float(np.float32(y_scale)), int(y_zp))


def _register(op_type: str, relu: bool, example: Example, doc: str) -> None:
    @register_cpu_operator(
        op_type,
        inputs=["X", "filter", "bias"],
        outputs=["Y"],
        num_inputs=(2, 3),
        args=ARGS,
        shape=_shape,
        cost=_cost,
        example=example,
        doc=doc,
    )
    def kernel(x, filter, *bias, **kw):
        if kw["order"] != "NHWC":  # the default NCHW is not checked at creation here
            raise ArgumentError(
                NHWC_ONLY, arg="order", expected='"NHWC"', found=kw["order"]
            )
        if len(bias) != 1:
            raise EnforceError(
                f"Inputs().size() == 3. {1 + 1 + len(bias)} vs 3",
                expected=3,
                found=2 + len(bias),
            )
        qx, qw = int8_input(x, "X"), int8_input(filter, "filter")
        qb = int8_input(bias[0], "bias", np.int32)
        return (int8_conv_forward(qx, qw, qb, kw, relu),)

    kernel.__name__ = kernel.__qualname__ = "int8_conv_relu" if relu else "int8_conv"
    gradient_not_implemented_yet(op_type)


_X = Int8Tensor(np.array([10, 12, 14, 16], np.uint8).reshape(1, 2, 2, 1), 0.5, 10)
_W = Int8Tensor(np.array([1, 2, 3, 4], np.uint8).reshape(1, 2, 2, 1), 1.0, 2)
_B = Int8Tensor(np.array([-3], np.int32), 0.5, 0)
_DOC = """2-D convolution of Int8 tensors in NHWC order (Caffe2 refuses other orders:
"Int8Conv only supports NHWC order"). X is (N, H, W, C) uint8, filter (M, kH, kW,
C/group) uint8, bias an int32 Int8 tensor of M values (required at run time: Caffe2
enforced three inputs). Each output is sum (X - X.zero_point)(filter -
filter.zero_point) + bias over its window (padding reads as the zero point),
requantised as QNNPACK does: multiplier X.scale * filter.scale / Y_scale in float32
(below 1, else "failed to create QNNPACK convolution object"), rounding to nearest
with ties away from zero{relu}. Kernel, stride, dilation, pads and legacy padding are
the float Conv's. Y is (N, oH, oW, M) uint8 with Y_scale and Y_zero_point. Caffe2 read
past a bias of the wrong size; here that is an error.

Example: X=[[[[10], [12]], [[14], [16]]]] (scale 0.5, zero point 10), filter
[[[[1], [2]], [[3], [4]]]] (scale 1, zero point 2), bias=[-3] with kernel=2,
Y_scale=1, Y_zero_point={zp} -> Y=[[[[{y}]]]] (accumulator 0*-1 + 2*0 + 4*1 + 6*2 - 3
= 13, times 0.5 = 6.5, rounded to 7, plus the zero point)"""

_register(
    "Int8Conv",
    False,
    Example(
        {"X": _X, "filter": _W, "bias": _B},
        {"Y": Int8Tensor(np.array([[[[12]]]], np.uint8), 1.0, 5)},
        {"kernel": 2, "order": "NHWC", "Y_scale": 1.0, "Y_zero_point": 5},
    ),
    _DOC.format(relu="", zp=5, y=12),
)
_register(
    "Int8ConvRelu",
    True,
    Example(
        {"X": _X, "filter": _W, "bias": _B},
        {"Y": Int8Tensor(np.array([[[[12]]]], np.uint8), 1.0, 5)},
        {"kernel": 2, "order": "NHWC", "Y_scale": 1.0, "Y_zero_point": 5},
    ),
    _DOC.format(relu=", then clamped below at the quantised 0 (Relu)", zp=5, y=12),
)
