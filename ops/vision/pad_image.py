"""PadImage and PadImageGradient (Caffe2 pad_op.cc): pad the two spatial dimensions of
an image batch with a constant, a reflection or the edge values."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp
from . import _convpool as cp

_MODES = ("constant", "reflect", "edge")
_ARGS = cp.CONV_POOL_ARGS + [
    Arg("mode", str, "constant", doc='"constant", "reflect" or "edge"',
        check=lambda m: m in _MODES, check_message="Unknown padding mode",
        expected='"constant", "reflect" or "edge"'),
    Arg("value", float, 0.0, doc="the constant of mode constant"),
]


def _pads(kw: dict[str, Any]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right), checked as Caffe2's PadImageOp checked them."""
    p = cp.parse(kw)
    if kw["legacy_pad"] != cp.NOTSET:
        raise ArgumentError("Padding layer only supports explicit pad values.",
                            arg="legacy_pad", expected="0 (NOTSET)", found=kw["legacy_pad"])
    if p["dilation"] and any(d != 1 for d in p["dilation"]):
        raise ArgumentError("Pooling op does not support dilation right now.",
                            arg="dilation", expected=1, found=p["dilation"])
    if p["stride"] and any(s != 1 for s in p["stride"]):
        raise ArgumentError("Pooling op does not support stride right now.", arg="stride",
                            expected=1, found=p["stride"])
    pads = p["pads"] or [0, 0, 0, 0]
    enforce_cmp(len(pads) == 4, "pads_.size() == 4", len(pads), 4, error=ArgumentError)
    return pads[0], pads[1], pads[2], pads[3]


def _index(size: int, head: int, tail: int, mode: str, axis: str) -> np.ndarray:
    """For each padded position along one axis, the source position (-1: the constant)."""
    pos = np.arange(-head, size + tail)
    if mode == "constant":
        return np.where((pos >= 0) & (pos < size), pos, -1)
    if mode == "edge":
        return np.clip(pos, 0, size - 1)
    reflected = np.minimum(np.abs(pos), 2 * size - np.abs(pos) - 2)  # one reflection
    if pos.size and (reflected.min() < 0 or reflected.max() >= size):
        raise EnforceError(
            f"PadImage: reflect padding {max(head, tail)} along {axis} needs more than that "
            f"many values, the image has {size}", expected=f"pads < {size}",
            found=max(head, tail))  # (Caffe2 read outside the image)
    return reflected


def _maps(x_shape: tuple, kw: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    pad_t, pad_l, pad_b, pad_r = _pads(kw)
    h, w = cp.spatial_of(x_shape, kw["order"])
    return (_index(h, pad_t, pad_b, kw["mode"], "the height"),
            _index(w, pad_l, pad_r, kw["mode"], "the width"))


def _padded(x: TensorShape, kw: dict[str, Any], sign: int) -> tuple[TensorShape]:
    """X's shape with the pads added to (``sign`` 1) or taken from (-1) H and W."""
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, x.dtype),)
    pad_t, pad_l, pad_b, pad_r = _pads(kw)
    hi, wi = (1, 2) if kw["order"] == "NHWC" else (2, 3)
    dims = list(x.dims)
    for i, extra in ((hi, pad_t + pad_b), (wi, pad_l + pad_r)):
        dims[i] = (dims[i] + sign * extra if isinstance(dims[i], int)
                   else f"{dims[i]}{'+' if sign > 0 else '-'}{extra}")
    return (TensorShape(tuple(dims), x.dtype),)


def _shape(x: TensorShape, **kw: Any) -> tuple[TensorShape]:
    return _padded(x, kw, 1)


def _check(x: Any, kw: dict[str, Any]) -> None:
    cp.check_float(x, "X")  # float32 (Caffe2's), or float64
    enforce_cmp(x.ndim == 4, "X.dim() == 4", x.ndim, 4, blob="X")


@register_cpu_operator(
    "PadImage",
    inputs=["X"],
    outputs=["Y"],
    args=_ARGS,
    shape=_shape,
    example=Example({"X": np.array([[[[1, 2], [3, 4]]]], np.float32)},
                    {"Y": np.array([[[[4, 3, 4, 3], [2, 1, 2, 1], [4, 3, 4, 3]]]],
                                   np.float32)},
                    args={"pad_t": 1, "pad_l": 1, "pad_b": 0, "pad_r": 1,
                          "mode": "reflect"}),
    doc="""Pad the height and width of a float32 (or float64) image batch X (N, C, H, W), or (N, H, W,
C) with order="NHWC", by `pad` (or `pad_t`, `pad_l`, `pad_b`, `pad_r`, or `pads`): Y is
(N, C, H + pad_t + pad_b, W + pad_l + pad_r). `mode` "constant" fills with `value`,
"reflect" mirrors the image without repeating its border (pads smaller than the
image), "edge" repeats the border values. Strides, dilations and legacy padding are
refused, as in Caffe2.

Example: X=[[[[1, 2], [3, 4]]]], pad_t=1, pad_l=1, pad_b=0, pad_r=1, mode="reflect"
-> Y=[[[[4, 3, 4, 3], [2, 1, 2, 1], [4, 3, 4, 3]]]]""",
)
def pad_image(x: np.ndarray, **kw: Any) -> tuple:
    """Gather each padded position's source value (or the constant)."""
    _check(x, kw)
    rows, cols = _maps(x.shape, kw)
    xc = cp.to_channels_first(x, kw["order"])
    y = xc[:, :, np.maximum(rows, 0)[:, None], np.maximum(cols, 0)[None, :]]
    if kw["mode"] == "constant":
        outside = (rows[:, None] < 0) | (cols[None, :] < 0)
        y = np.where(outside, x.dtype.type(kw["value"]), y).astype(x.dtype)
    return (np.ascontiguousarray(cp.from_channels_first(y, kw["order"])),)


@register_gradient("PadImage")
def pad_image_gradient_maker(g):
    """PadImageGradient([dY]) -> [dX]."""
    return [g.op_def("PadImageGradient", [g.GO(0)], [g.GI(0)])]


def _grad_shape(dy: TensorShape, **kw: Any) -> tuple[TensorShape]:
    return _padded(dy, kw, -1)


@register_cpu_operator(
    "PadImageGradient",
    inputs=["dY"],
    outputs=["dX"],
    args=_ARGS,
    shape=_grad_shape,
    example=Example({"dY": np.array([[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]], np.float32)},
                    {"dX": np.array([[[[1, 2], [2, 4]]]], np.float32)},
                    args={"pad_t": 0, "pad_l": 0, "pad_b": 1, "pad_r": 1, "mode": "edge"}),
    doc="""Gradient of PadImage: dX (the size of PadImage's input, from dY minus the pads)
gets every value of dY added at the position it was read from (the constant's
positions add nothing), with PadImage's arguments.

Example: dY = ones (1, 1, 3, 3), pad_b=1, pad_r=1, mode="edge" -> dX=[[[[1, 2], [2,
4]]]] (the last row and column repeat the edge)""",
)
def pad_image_gradient(dy: np.ndarray, **kw: Any) -> tuple:
    """Scatter-add dY to the source positions."""
    _check(dy, kw)
    pad_t, pad_l, pad_b, pad_r = _pads(kw)
    ph, pw = cp.spatial_of(dy.shape, kw["order"])
    h, w = ph - pad_t - pad_b, pw - pad_l - pad_r
    enforce_cmp(h > 0 and w > 0, "dY larger than the pads", (ph, pw),
                (pad_t + pad_b, pad_l + pad_r), blob="dY")
    rows = _index(h, pad_t, pad_b, kw["mode"], "the height")
    cols = _index(w, pad_l, pad_r, kw["mode"], "the width")
    dyc = cp.to_channels_first(dy, kw["order"])
    dx = np.zeros(dyc.shape[:2] + (h, w), dy.dtype)
    keep_r, keep_c = np.flatnonzero(rows >= 0), np.flatnonzero(cols >= 0)
    # rows first: the sum over padded rows of each source row, then the columns
    partial = np.zeros(dyc.shape[:2] + (h, pw), dy.dtype)
    np.add.at(partial, (slice(None), slice(None), rows[keep_r]), dyc[:, :, keep_r])
    np.add.at(dx, (slice(None), slice(None), slice(None), cols[keep_c]),
              partial[:, :, :, keep_c])
    return (np.ascontiguousarray(cp.from_channels_first(dx, kw["order"])),)


gradient_not_implemented_yet("PadImageGradient")
