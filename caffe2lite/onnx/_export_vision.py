"""ONNX converters of Caffe2's image resizing and region-of-interest ops
(ResizeNearest, UpsampleBilinear, RoIAlign, RoIPool)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.onnx._export_graph import OpContext, Unsupported, converter
from caffe2lite.onnx._export_nn import _to_nchw


@converter("ResizeNearest")
def resize_nearest(ctx: OpContext, op: Any, args: dict) -> None:
    """Source index floor(out / scale), clamped: ONNX Resize, nearest, asymmetric."""
    x = op.input[0]
    hs, ws = args["height_scale"], args["width_scale"]
    if len(op.input) > 1:
        value = ctx.value(op.input[1])
        if value is None:
            raise Unsupported("scales given as a data blob")
        hs, ws = (float(v) for v in np.ravel(value)[:2])
    scales = [1.0, 1.0, hs, ws] if args["order"] == "NCHW" else [1.0, hs, ws, 1.0]
    if ctx.rank(x) != 4:
        raise Unsupported("an input that is not 4-D")
    inputs = [x, "", ctx.const(np.array(scales, np.float32), hint="scales")]
    ctx.one(
        "Resize",
        inputs,
        op.output[0],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )


@converter("UpsampleBilinear")
def upsample_bilinear(ctx: OpContext, op: Any, args: dict) -> None:
    """Output index i reads i * (in - 1) / (out - 1), interpolated: ONNX Resize,
    linear, align_corners."""
    x = op.input[0]
    hs, ws = args["height_scale"], args["width_scale"]
    if len(op.input) > 1:
        value = ctx.value(op.input[1])
        if value is None:
            raise Unsupported("scales given as a data blob")
        hs, ws = (float(v) for v in np.ravel(value)[:2])
    if ctx.rank(x) != 4:
        raise Unsupported("an input that is not 4-D")
    scales = ctx.const(np.array([1.0, 1.0, hs, ws], np.float32), hint="scales")
    ctx.one(
        "Resize",
        [x, "", scales],
        op.output[0],
        mode="linear",
        coordinate_transformation_mode="align_corners",
    )


@converter("RoIAlign")
def roi_align(ctx: OpContext, op: Any, args: dict) -> None:
    """ONNX's RoiAlign (average mode): rows [batch, x1, y1, x2, y2] split into the
    batch indices and the boxes; ``aligned`` is the half-pixel shift; a
    sampling_ratio <= 0 is adaptive (ONNX's 0)."""
    x, rois = op.input
    if ctx.opset < 16:
        raise Unsupported("RoiAlign's coordinate_transformation_mode needs opset 16")
    width = ctx.dims(rois)[-1]
    if width == 5:
        batch, boxes = ctx.node("Split", [rois, ctx.ints([1, 4])], 2, axis=1)
        batch = ctx.one("Cast", [ctx.one("Reshape", [batch, ctx.ints([-1])])], to=7)
    elif width == 4:
        boxes = rois
        batch = ctx.one(
            "ConstantOfShape", [ctx.shape_part(rois, 0, 1)], value=np.zeros(1, np.int64)
        )
    else:
        raise Unsupported(f"RoIs of {width} columns")
    x, back = _to_nchw(ctx, x, args["order"])
    y = ctx.one(
        "RoiAlign",
        [x, boxes, batch],
        None if back else op.output[0],
        mode="avg",
        output_height=args["pooled_h"],
        output_width=args["pooled_w"],
        sampling_ratio=max(args["sampling_ratio"], 0),
        spatial_scale=float(args["spatial_scale"]),
        coordinate_transformation_mode=(
            "half_pixel" if args["aligned"] else "output_half_pixel"
        ),
    )
    if back:
        ctx.transpose(y, back, op.output[0])


@converter("RoIPool")
def roi_pool(ctx: OpContext, op: Any, args: dict) -> None:
    """ONNX's MaxRoiPool: the same [batch, x1, y1, x2, y2] rows, rounded boxes and max
    bins; the argmaxes output (for training) is not given."""
    if args["order"] != "NCHW":
        raise Unsupported("order NHWC")
    ctx.require_unused(*op.output[1:])
    ctx.one(
        "MaxRoiPool",
        list(op.input),
        op.output[0],
        pooled_shape=[args["pooled_h"], args["pooled_w"]],
        spatial_scale=float(args["spatial_scale"]),
    )
