"""Int8RoIAlign: RoIAlign of an NHWC uint8 Int8 feature map, with Caffe2's uint8
bilinear weights (each rounded from 255 * the float weight) and gemmlowp
requantisation of the sums."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import float_tensor
from ..detection._roi import (
    POOLED_SIZE_ARGS,
    axis_samples,
    batch_indices,
    check_rois,
    check_work,
    roi_grid,
)
from ._q8 import (
    Y_ARGS,
    int8_input,
    multiply_by_quantized_multiplier,
    quantize_multipliers,
)

F = np.float32

ARGS = [
    Arg(
        "order",
        str,
        "NHWC",
        doc='only "NHWC"',
        check=lambda v: v == "NHWC",
        check_message="order_ == StorageOrder::NHWC",
        expected='"NHWC"',
    ),
    Arg("spatial_scale", float, 1.0, doc="scale of X relative to the RoIs' image"),
    *POOLED_SIZE_ARGS,
    Arg("sampling_ratio", int, -1, doc="samples per bin side; <= 0: adaptive"),
    *Y_ARGS,
]


def _shape(
    x: TensorShape, rois: TensorShape, *, pooled_h: int, pooled_w: int, **kwargs
):
    u8 = np.dtype(np.uint8)
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, u8),)
    r = rois.dims[0] if rois.dims is not None and len(rois.dims) == 2 else "R"
    return (TensorShape((r, pooled_h, pooled_w, x.dims[3]), u8),)


def _weights(fy, fx, valid):
    """The four uint8 corner weights of every sample: nearbyint(255 * hy * hx) ..."""
    hy, hx = (F(1.0) - fy).astype(F), (F(1.0) - fx).astype(F)
    w = [hy * hx, hy * fx, fy * hx, fy * fx]
    return [
        np.where(valid, np.rint(v.astype(F) * F(255.0)), 0).astype(np.int64) for v in w
    ]


@register_cpu_operator(
    "Int8RoIAlign",
    inputs=["X", "RoIs"],
    outputs=["Y"],
    args=ARGS,
    shape=_shape,
    example=Example(
        {
            "X": Int8Tensor(
                np.array([10, 20, 30, 40], np.uint8).reshape(1, 2, 2, 1), 1.0, 0
            ),
            "RoIs": np.array([[0, 0, 0, 1, 1]], np.float32),
        },
        {"Y": Int8Tensor(np.array([[[[25]]]], np.uint8), 1.0, 0)},
        {"sampling_ratio": 1},
    ),
    doc="""RoIAlign of an Int8 feature map in NHWC order (the only order: "order_ ==
StorageOrder::NHWC"), with the geometry of the float RoIAlign (RoIs (R, 4 or 5) in image
coordinates times spatial_scale, at least 1x1, pooled_h x pooled_w bins of
sampling_ratio^2 samples, adaptive when <= 0). Each bilinear sample uses four uint8
weights nearbyint(255 * w) (zero for a sample more than a pixel outside the image,
which so reads a raw 0: its real value is -X.zero_point * X.scale, as in Caffe2);
per bin the int32 sum of weight * X minus 255 * X.zero_point per sample is requantised
by X.scale / (Y_scale * 255 * samples) in gemmlowp fixed point (the multiplier must be
below 1) and Y_zero_point added, clamped to [0, 255]. Y is (R, pooled_h, pooled_w, C)
uint8 with Y_scale and Y_zero_point. A batch index outside X is an error (Caffe2 read
outside it).

Example: X=[[[[10], [20]], [[30], [40]]]] (scale 1), RoIs=[[0, 0, 0, 1, 1]] with
sampling_ratio=1 -> Y=[[[[25]]]] (one sample at (0.5, 0.5), weights 64, 64, 64, 64)""",
)
def int8_roi_align(
    x,
    rois,
    *,
    order: str,
    spatial_scale: float,
    pooled_h: int,
    pooled_w: int,
    sampling_ratio: int,
    Y_scale: float,
    Y_zero_point: int,
) -> tuple:
    q = int8_input(x, "X")
    if order != "NHWC":
        raise ArgumentError(
            "order_ == StorageOrder::NHWC", arg="order", expected='"NHWC"', found=order
        )
    float_tensor(rois, "RoIs", np.dtype(np.float32))
    if q.data.ndim != 4:
        raise ArgumentError(
            "X must be an NHWC tensor of rank 4",
            arg="X",
            expected="rank 4",
            found=list(q.data.shape),
        )
    n, h, w, c = q.data.shape
    y_scale = float(np.float32(Y_scale))
    if rois.size == 0:
        return (
            Int8Tensor(
                np.zeros((0, pooled_h, pooled_w, c), np.uint8),
                y_scale,
                int(Y_zero_point),
            ),
        )
    check_rois(rois)
    b = batch_indices(rois, n)
    sh, sw, bh, bw, gh, gw = roi_grid(
        rois, spatial_scale, pooled_h, pooled_w, sampling_ratio, False
    )
    g = int(max(gh.max(), gw.max()))
    check_work(len(rois) * pooled_h * pooled_w * g * g * c * 4, "Int8RoIAlign")
    yl, yh, fy, vy = axis_samples(sh, bh, gh, pooled_h, h)  # (R, ph, G)
    xl, xh, fx, vx = axis_samples(sw, bw, gw, pooled_w, w)  # (R, pw, G)
    # broadcast to (R, ph, pw, Gy, Gx)
    Y = (slice(None), slice(None), None, slice(None), None)
    X = (slice(None), None, slice(None), None, slice(None))
    valid = vy[Y] & vx[X]
    w1, w2, w3, w4 = _weights(fy[Y], fx[X], valid)
    rb = b[:, None, None, None, None]
    data = q.data.astype(np.int64)
    acc = (
        w1[..., None] * data[rb, yl[Y], xl[X]]
        + w2[..., None] * data[rb, yl[Y], xh[X]]
        + w3[..., None] * data[rb, yh[Y], xl[X]]
        + w4[..., None] * data[rb, yh[Y], xh[X]]
    )
    acc = acc.sum(axis=(3, 4))  # (R, ph, pw, C)
    samples = (gh * gw).astype(np.int64)
    acc = acc - (q.zero_point * 255 * samples)[:, None, None, None]
    # one multiplier per RoI, as Caffe2
    real = float(np.float32(q.scale)) / (
        y_scale * 255.0 * samples.astype(np.float32).astype(np.float64)
    )
    m, sft = quantize_multipliers(real)
    m, sft = m[:, None, None, None], sft[:, None, None, None]
    out = multiply_by_quantized_multiplier(acc, m, sft) + int(Y_zero_point)
    return (
        Int8Tensor(np.clip(out, 0, 255).astype(np.uint8), y_scale, int(Y_zero_point)),
    )


gradient_not_implemented_yet("Int8RoIAlign")
