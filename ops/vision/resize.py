"""ResizeNearest and UpsampleBilinear, with their gradient ops (Caffe2 resize_op.cc,
upsample_op.cc): scale the two spatial dimensions of a 4-D image batch.

The output size is floor(in * scale) per dimension (float32 arithmetic, as Caffe2's
int conversion of a float product). ResizeNearest reads source index
min(floor(out_index / scale), in - 1) (channels first or last). UpsampleBilinear
(channels first) maps output index i to i * (in - 1) / (out - 1) and interpolates
between the two neighbours. An optional second input [height_scale, width_scale]
overrides the arguments, as Caffe2 did for ONNX's Upsample.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp
from . import _convpool as cp

_SCALES = [
    Arg("width_scale", float, 1.0, doc="scale of the width"),
    Arg("height_scale", float, 1.0, doc="scale of the height"),
]
_ORDER = Arg("order", str, "NCHW", check=lambda v: v in ("NCHW", "NHWC"),
             check_message="Unknown Storage order", expected='"NCHW" or "NHWC"')
F32 = np.float32


def _scales(scales, height_scale, width_scale) -> tuple[np.float32, np.float32]:
    if scales is None:
        return F32(height_scale), F32(width_scale)
    cp.check_float(scales, "scales")
    enforce_cmp(scales.ndim == 1, "scales.dim() == 1", scales.ndim, 1, blob="scales")
    enforce_cmp(scales.size == 2, "scales.numel() == 2", scales.size, 2, blob="scales")
    return F32(scales[0]), F32(scales[1])


def _check_image(x, blob="X"):
    cp.check_float(x, blob)
    enforce_cmp(x.ndim == 4, f"{blob}.dim() == 4", x.ndim, 4, blob=blob)


def _out_size(n: int, scale: np.float32) -> int:
    size = int(F32(n) * scale)
    enforce_cmp(size >= 0, "output size >= 0", size, 0, "The scale must not be negative")
    return size


def _nearest_index(out: int, inp: int, scale: np.float32) -> np.ndarray:
    idx = (np.arange(out, dtype=F32) / scale).astype(np.int64) if out else np.zeros(0, np.int64)
    return np.minimum(idx, inp - 1)


def _hw(x_shape, order):
    return (x_shape[2], x_shape[3]) if order == "NCHW" else (x_shape[1], x_shape[2])


def _resize_shape(x: TensorShape, scales: TensorShape | None = None, *, width_scale,
                  height_scale, order="NCHW"):
    """Output sizes floor(in * scale); symbolic when the scales come from an input."""
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, x.dtype),)
    h, w = _hw(x.dims, order)
    c = x.dims[1] if order == "NCHW" else x.dims[3]
    if scales is not None:
        oh, ow = f"{h}*scales[0]", f"{w}*scales[1]"
    else:
        oh = _out_size(h, F32(height_scale)) if isinstance(h, int) else f"{h}*{height_scale}"
        ow = _out_size(w, F32(width_scale)) if isinstance(w, int) else f"{w}*{width_scale}"
    return (TensorShape(cp.image_shape(x.dims[0], c, (oh, ow), order), x.dtype),)


@register_cpu_operator(
    "ResizeNearest",
    inputs=["X", "scales"],
    outputs=["Y"],
    num_inputs=(1, 2),
    args=_SCALES + [_ORDER],
    shape=_resize_shape,
    example=Example({"X": np.array([[[[1, 2], [3, 4]]]], np.float32)},
                    {"Y": np.array([[[[1, 1, 2], [1, 1, 2], [3, 3, 4], [3, 3, 4]]]], np.float32)},
                    {"height_scale": 2.0, "width_scale": 1.5}),
    doc=__doc__.split("\n\n", 1)[1],
)
def resize_nearest(x, scales=None, *, width_scale, height_scale, order):
    """Nearest-neighbour resize of the spatial dimensions."""
    _check_image(x)
    hs, ws = _scales(scales, height_scale, width_scale)
    h, w = _hw(x.shape, order)
    rows = _nearest_index(_out_size(h, hs), h, hs)
    cols = _nearest_index(_out_size(w, ws), w, ws)
    if order == "NCHW":
        return (x[:, :, rows[:, None], cols[None, :]],)
    return (x[:, rows[:, None], cols[None, :], :],)


@register_gradient("ResizeNearest")
def resize_nearest_gradient_maker(g):
    """``ResizeNearestGradient([dY, X(, scales)]) -> [dX]``."""
    ins = [g.GO(0), g.I(0)] + ([g.I(1)] if len(g.def_.input) == 2 else [])
    return [g.op_def("ResizeNearestGradient", ins, [g.GI(0)])]


@register_cpu_operator(
    "ResizeNearestGradient",
    inputs=["dY", "X", "scales"],
    outputs=["dX"],
    num_inputs=(2, 3),
    args=_SCALES + [_ORDER],
    shape=lambda dy, x, scales=None: (x,),
    example=Example({"dY": np.ones((1, 1, 4, 3), np.float32),
                     "X": np.zeros((1, 1, 2, 2), np.float32)},
                    {"dX": np.array([[[[4, 2], [4, 2]]]], np.float32)},
                    {"height_scale": 2.0, "width_scale": 1.5}),
    doc="""Gradient of ResizeNearest: every dY value is added to the X position it was
read from (dX has X's shape).""",
)
def resize_nearest_gradient(dy, x, scales=None, *, width_scale, height_scale, order):
    """dX: dY summed back onto the nearest sources."""
    _check_image(dy, "dY")
    _check_image(x)
    hs, ws = _scales(scales, height_scale, width_scale)
    h, w = _hw(x.shape, order)
    oh, ow = _hw(dy.shape, order)
    rows = _nearest_index(oh, h, hs)
    cols = _nearest_index(ow, w, ws)
    if order == "NCHW":
        dx = np.zeros(dy.shape[:2] + (h, w), dy.dtype)
        np.add.at(dx, (slice(None), slice(None), rows[:, None], cols[None, :]), dy)
    else:
        dx = np.zeros((dy.shape[0], h, w, dy.shape[3]), dy.dtype)
        np.add.at(dx, (slice(None), rows[:, None], cols[None, :], slice(None)), dy)
    return (dx,)


def _bilinear_weights(out: int, inp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Caffe2's source row, its +1 step (0 at the last row) and the weight of the next
    row for each of ``out`` positions."""
    r = F32((inp - 1) / (out - 1)) if out > 1 else F32(0.0)
    pos = r * np.arange(out, dtype=F32)
    base = pos.astype(np.int64)
    step = (base < inp - 1).astype(np.int64)
    return base, step, (pos - base.astype(F32)).astype(F32)


@register_cpu_operator(
    "UpsampleBilinear",
    inputs=["X", "scales"],
    outputs=["Y"],
    num_inputs=(1, 2),
    args=_SCALES,
    shape=lambda x, scales=None, *, width_scale, height_scale: _resize_shape(
        x, scales, width_scale=width_scale, height_scale=height_scale),
    example=Example({"X": np.array([[[[0, 2], [4, 6]]]], np.float32)},
                    {"Y": np.array([[[[0, 1, 2], [2, 3, 4], [4, 5, 6]]]], np.float32)},
                    {"height_scale": 1.5, "width_scale": 1.5}),
    doc="""Bilinear upsampling of an NCHW image batch: output index i reads position
i * (in - 1) / (out - 1) of the input and interpolates between its two neighbours (the
corners of input and output align). Output size floor(in * scale). Float32/float64.""",
)
def upsample_bilinear(x, scales=None, *, width_scale, height_scale):
    """Bilinear resize of the spatial dimensions (NCHW)."""
    _check_image(x)
    hs, ws = _scales(scales, height_scale, width_scale)
    h, w = x.shape[2:]
    oh, ow = _out_size(h, hs), _out_size(w, ws)
    if oh == 0 or ow == 0 or h == 0 or w == 0:
        return (np.zeros(x.shape[:2] + (oh, ow), x.dtype),)
    h0, hp, hl = _bilinear_weights(oh, h)
    w0, wp, wl = _bilinear_weights(ow, w)
    t = x.dtype.type
    hl, wl = hl.astype(x.dtype)[:, None], wl.astype(x.dtype)[None, :]
    top = x[:, :, h0[:, None], w0[None, :]] * (t(1) - wl) + x[:, :, h0[:, None], (w0 + wp)[None, :]] * wl
    bottom = (x[:, :, (h0 + hp)[:, None], w0[None, :]] * (t(1) - wl)
              + x[:, :, (h0 + hp)[:, None], (w0 + wp)[None, :]] * wl)
    return ((top * (t(1) - hl) + bottom * hl).astype(x.dtype),)


@register_gradient("UpsampleBilinear")
def upsample_bilinear_gradient_maker(g):
    """``UpsampleBilinearGradient([dY, X(, scales)]) -> [dX]``."""
    ins = [g.GO(0), g.I(0)] + ([g.I(1)] if len(g.def_.input) == 2 else [])
    return [g.op_def("UpsampleBilinearGradient", ins, [g.GI(0)])]


@register_cpu_operator(
    "UpsampleBilinearGradient",
    inputs=["dY", "X", "scales"],
    outputs=["dX"],
    num_inputs=(2, 3),
    args=_SCALES,
    shape=lambda dy, x, scales=None: (x,),
    example=Example({"dY": np.ones((1, 1, 3, 3), np.float32),
                     "X": np.zeros((1, 1, 2, 2), np.float32)},
                    {"dX": np.full((1, 1, 2, 2), 2.25, np.float32)},
                    {"height_scale": 1.5, "width_scale": 1.5}),
    doc="""Gradient of UpsampleBilinear: each dY value is shared among the four input
positions it interpolated, with the same weights.""",
)
def upsample_bilinear_gradient(dy, x, scales=None, *, width_scale, height_scale):
    """dX of the bilinear upsampling."""
    _check_image(dy, "dY")
    _check_image(x)
    _scales(scales, height_scale, width_scale)
    oh, ow = dy.shape[2:]
    h, w = x.shape[2:]
    dx = np.zeros(dy.shape[:2] + (h, w), dy.dtype)
    if oh == 0 or ow == 0 or h == 0 or w == 0:
        return (dx,)
    h0, hp, hl = _bilinear_weights(oh, h)
    w0, wp, wl = _bilinear_weights(ow, w)
    t = dy.dtype.type
    hl, wl = hl.astype(dy.dtype)[:, None], wl.astype(dy.dtype)[None, :]
    for rows, hw in ((h0, t(1) - hl), (h0 + hp, hl)):
        for cols, ww in ((w0, t(1) - wl), (w0 + wp, wl)):
            np.add.at(dx, (slice(None), slice(None), rows[:, None], cols[None, :]), dy * (hw * ww))
    return (dx,)


for _op in ("ResizeNearestGradient", "UpsampleBilinearGradient"):
    gradient_not_implemented_yet(_op)
