"""Int8ConvTranspose: quantised 2-D transposed convolution in NHWC order (QNNPACK's
deconvolution: uint8 input and filter, int32 bias and accumulation, q31
requantisation). The geometry is the float ConvTranspose's
(ops/vision/conv_transpose.py)."""

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
from caffe2lite.schema.shapes import UNKNOWN, TensorShape

from .._dense import dims
from ..vision import _convpool as cp
from ..vision.conv_transpose import _ARGS as TRANSPOSE_ARGS
from ..vision.conv_transpose import _geometry
from ._q8 import Y_ARGS, int8_input, qnnp_requantize, qnnp_scale

NHWC_ONLY = "Int8ConvTransposeOp only supports NHWC order"
FAILURE = "failed to create QNNPACK convolution object"

ARGS = [a for a in TRANSPOSE_ARGS if a.name != "order"] + [
    Arg(
        "order",
        str,
        "NCHW",
        doc='must be "NHWC"',
        check=lambda v: v == "NHWC",
        check_message=NHWC_ONLY,
        expected='"NHWC"',
    ),
    *Y_ARGS,
]


def _kw(kw: dict) -> dict:
    return {a.name: kw[a.name] for a in TRANSPOSE_ARGS if a.name in kw}


def _shape(x: TensorShape, w: TensorShape, b: TensorShape = UNKNOWN, **kw):
    u8 = np.dtype(np.uint8)
    if (
        x.dims is None
        or w.dims is None
        or len(x.dims) != 4
        or len(w.dims) != 4
        or any(isinstance(d, str) for d in x.dims[1:3])
    ):
        return (TensorShape(None, u8),)
    _, out, _ = _geometry(tuple(x.dims[1:3]), dict(_kw(kw), order="NHWC"))
    return (TensorShape((x.dims[0], *out, w.dims[3]), u8),)


def int8_conv_transpose_forward(
    qx: Int8Tensor, qw: Int8Tensor, qb: Int8Tensor, kw: dict
) -> Int8Tensor:
    if qx.data.ndim != 4 or qw.data.ndim != 4:
        raise ShapeError(
            "Int8ConvTranspose needs an NHWC image and a (C, kH, kW, M) filter",
            blob="X",
            expected="rank-4 X and filter",
            found=f"{dims(qx.data.shape)}, {dims(qw.data.shape)}",
        )
    n, h, w, ic = qx.data.shape
    if qw.data.shape[0] != ic:
        raise EnforceError(
            f"Check failed: IC == W.t.size(0) ({ic} vs. {qw.data.shape[0]})",
            blob="filter",
            expected=ic,
            found=qw.data.shape[0],
        )
    kh, kwid, oc = qw.data.shape[1:]
    if qb.data.size != oc:
        raise ShapeError(
            f"bias must have {oc} values, one per output channel",
            blob="bias",
            expected=oc,
            found=qb.data.size,
        )
    geo, out, adj = _geometry((h, w), dict(_kw(kw), order="NHWC"))
    if geo.kernel != (kh, kwid):
        raise ShapeError(
            f"the kernel arguments {list(geo.kernel)} do not match the filter's "
            f"{[kh, kwid]}",
            blob="filter",
            expected=list(geo.kernel),
            found=[kh, kwid],
        )
    scale = qnnp_scale(qx.scale, qw.scale, kw["Y_scale"], FAILURE, "deconvolution")
    xs = qx.data.astype(np.int64) - qx.zero_point
    ws = qw.data.astype(np.int64) - qw.zero_point
    # every input pixel times the whole filter: (N, OC, kH, kW, H, W), then spread
    cols = np.einsum("nhwi,iyxo->noyxhw", xs, ws, optimize=True)
    canvas = tuple(
        (geo.out[d] - 1) * geo.stride[d] + geo.kernel[d] + adj[d] for d in range(2)
    )
    full = cp.scatter_windows(cols, (n, oc, *canvas), geo)
    top, left = geo.pad_head
    acc = full[:, :, top : top + out[0], left : left + out[1]]
    acc = np.moveaxis(acc, 1, -1) + qb.data.astype(np.int64).reshape(oc)
    y = qnnp_requantize(acc, scale, kw["Y_zero_point"], 0, 255)
    return Int8Tensor(
        np.ascontiguousarray(y),
        float(np.float32(kw["Y_scale"])),
        int(kw["Y_zero_point"]),
    )


@register_cpu_operator(
    "Int8ConvTranspose",
    inputs=["X", "filter", "bias"],
    outputs=["Y"],
    num_inputs=(2, 3),
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "X": Int8Tensor(np.array([[[[2], [4]]]], np.uint8), 1.0, 0),
            "filter": Int8Tensor(
                np.array([1, 2], np.uint8).reshape(1, 1, 2, 1), 1.0, 0
            ),
            "bias": Int8Tensor(np.array([1], np.int32), 1.0, 0),
        },
        {"Y": Int8Tensor(np.array([[[[2], [5], [5]]]], np.uint8), 2.0, 0)},
        {"kernel_h": 1, "kernel_w": 2, "order": "NHWC", "Y_scale": 2.0},
    ),
    doc="""Transposed 2-D convolution of Int8 tensors in NHWC order (Caffe2 refuses
other orders: "Int8ConvTransposeOp only supports NHWC order"). X is (N, H, W, C)
uint8, filter (C, kH, kW, M) uint8, bias an int32 Int8 tensor of M values (required at
run time). Every input pixel, relative to X's zero point, spreads through the filter
(relative to its zero point) into a stride-spaced output; pads crop the output and
`adj` adds rows/columns at its tail, as the float ConvTranspose; the bias is added and
the int32 sums are requantised as QNNPACK does (multiplier X.scale * filter.scale /
Y_scale in float32, below 1, else "failed to create QNNPACK convolution object").
Y is (N, oH, oW, M) uint8 with Y_scale and Y_zero_point. No groups (Caffe2 passed one
group to QNNPACK); Caffe2 read past a bias of the wrong size, here an error.

Example: X=[[[[2], [4]]]], filter [[[[1], [2]]]] (1x2 kernel), bias=[1] with
Y_scale=2 -> Y=[[[[2], [5], [5]]]] (the sums 2 + 1, 4 + 4 + 1, 8 + 1 halved, ties
rounded away from zero)""",
)
def int8_conv_transpose(x, filter, *bias, **kw) -> tuple:
    if kw["order"] != "NHWC":
        raise ArgumentError(
            NHWC_ONLY, arg="order", expected='"NHWC"', found=kw["order"]
        )
    if len(bias) != 1:
        raise EnforceError(
            f"Inputs().size() == 3. {2 + len(bias)} vs 3",
            expected=3,
            found=2 + len(bias),
        )
    qx, qw = int8_input(x, "X"), int8_input(filter, "filter")
    qb = int8_input(bias[0], "bias", np.int32)
    return (int8_conv_transpose_forward(qx, qw, qb, kw),)


gradient_not_implemented_yet("Int8ConvTranspose")
