"""ONNX Resize and Upsample -> Caffe2's ResizeNearest and UpsampleBilinear.

ResizeNearest reads source index min(floor(out_index / scale), in - 1): ONNX's
asymmetric/floor mapping for any positive scale, and, for integer scales only, the
half-pixel mappings with round-to-nearest. UpsampleBilinear maps out index i to
i * (in - 1) / (out - 1): ONNX's linear mode with align_corners.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from caffe2lite.onnx._import_context import (
    ImportContext,
    Unsupported,
    canon_axis,
    converter,
    ints_of,
)
from caffe2lite.onnx._import_nn import _text


def _nearest_scales(ctx: ImportContext, node: Any, scales: np.ndarray, any_scale: bool) -> None:
    """ResizeNearest for scales [1, 1, h, w] (NCHW) or [1, h, w, 1] (NHWC). Integer h, w
    unless ``any_scale`` (the asymmetric/floor mapping, which is Caffe2's for any
    positive scale)."""
    s = [float(v) for v in scales.reshape(-1)]
    if len(s) == 4 and s[0] == 1.0 and s[1] == 1.0:
        order, h, w = "NCHW", s[2], s[3]
    elif len(s) == 4 and s[0] == 1.0 and s[3] == 1.0:
        order, h, w = "NHWC", s[1], s[2]
    else:
        raise Unsupported("scales other than [1, 1, h, w] (NCHW) or [1, h, w, 1] (NHWC)")
    if any_scale:
        if h <= 0 or w <= 0:
            raise Unsupported("scales that are not positive")
    elif any(v < 1 or v != math.floor(v) for v in (h, w)):
        raise Unsupported("non-integer scales with this coordinate mapping")
    ctx.op("ResizeNearest", [node.input[0]], [node.output[0]],
           height_scale=h, width_scale=w, order=None if order == "NCHW" else order)


@converter("Upsample")
def _upsample(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    if _text(attrs.get("mode"), "nearest") != "nearest":
        raise Unsupported("mode=" + _text(attrs.get("mode"), ""))
    if "scales" in attrs:
        scales = np.asarray(attrs["scales"], np.float32)
    else:
        scales = ctx.need_const(node.input[1], "scales")
    _nearest_scales(ctx, node, scales, any_scale=True)


# (coordinate_transformation_mode, nearest_mode) pairs that equal floor(y / scale)
# for integer scales, which is what Caffe2's ResizeNearest computes.
_FLOOR_LIKE = {
    ("half_pixel", "round_prefer_floor"), ("half_pixel", "round_prefer_ceil"),
    ("pytorch_half_pixel", "round_prefer_floor"), ("pytorch_half_pixel", "round_prefer_ceil"),
    ("asymmetric", "floor"),
}


def _scales_for_sizes(sizes: list[int], shape: tuple[int, ...]) -> np.ndarray:
    """Scales whose float32 product with the input size floors to exactly ``sizes``
    (as Caffe2 sizes its output), nudged up by a few ulps where size / in rounds low."""
    scales = []
    for size, n in zip(sizes, shape):
        if n <= 0 or size < 0:
            raise Unsupported("sizes for an empty input")
        s = np.float32(size / n)
        while int(np.float32(n) * s) < size:
            s = np.nextafter(s, np.float32(np.inf))
        scales.append(s)
    return np.array(scales, np.float32)


def _resize_scales(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> np.ndarray:
    """One scale per input dimension, from the scales or the sizes input (given for
    ``axes`` only when the attribute is there, opset 18)."""
    scales_name = node.input[1] if ctx.opset < 11 else (
        node.input[2] if len(node.input) > 2 else "")
    scales = ctx.const(scales_name) if scales_name else None
    axes = attrs.get("axes")
    rank: int | None = None
    if axes is not None:
        rank = ctx.need_rank(node.input[0], "axes")
        axes = [canon_axis(a, rank) for a in axes]
    if scales is not None and scales.size:
        if axes is None:
            return scales
        assert rank is not None  # set with axes above
        full = np.ones(rank, np.float32)
        full[axes] = scales.reshape(-1)
        return full
    if _text(attrs.get("keep_aspect_ratio_policy"), "stretch") != "stretch":
        raise Unsupported("keep_aspect_ratio_policy other than stretch")
    sizes_name = node.input[3] if len(node.input) > 3 else ""
    sizes = ctx.need_const(sizes_name, "scales or sizes") if sizes_name else None
    shape = ctx.static_shape(node.input[0])
    if sizes is None or shape is None:
        raise Unsupported("sizes on an input of unknown shape")
    wanted = list(shape)
    for axis, size in zip(axes if axes is not None else range(len(shape)), ints_of(sizes)):
        wanted[axis] = size
    return _scales_for_sizes(wanted, shape)


@converter("Resize")
def _resize(ctx: ImportContext, node: Any, attrs: dict[str, Any]) -> None:
    mode = _text(attrs.get("mode"), "nearest")
    if attrs.get("antialias", 0) and mode != "nearest":  # nearest ignores antialias
        raise Unsupported("antialias=1")
    coord = _text(attrs.get("coordinate_transformation_mode"), "half_pixel")
    if mode == "linear" and coord == "align_corners" and ctx.opset >= 11:
        # Caffe2's UpsampleBilinear maps i to i * (in - 1) / (out - 1): align_corners.
        s = [float(v) for v in _resize_scales(ctx, node, attrs).reshape(-1)]
        if len(s) != 4 or s[0] != 1.0 or s[1] != 1.0:
            raise Unsupported("linear scales other than [1, 1, h, w]")
        ctx.op("UpsampleBilinear", [node.input[0]], [node.output[0]],
               height_scale=s[2], width_scale=s[3])
        return
    if mode != "nearest":
        raise Unsupported(f"mode={mode} with coordinate_transformation_mode={coord}")
    nearest = _text(attrs.get("nearest_mode"), "round_prefer_floor")
    if ctx.opset < 11:  # Resize-10 maps like Upsample: floor(y / scale)
        coord, nearest = "asymmetric", "floor"
    if (coord, nearest) not in _FLOOR_LIKE:
        raise Unsupported(f"coordinate_transformation_mode={coord} with nearest_mode={nearest}")
    scales = _resize_scales(ctx, node, attrs)
    _nearest_scales(ctx, node, scales, any_scale=(coord, nearest) == ("asymmetric", "floor"))
