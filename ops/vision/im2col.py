"""Im2Col and Col2Im (Caffe2 im2col_op.cc/.h): the image-to-column rearrangement of
convolution ("the Im2Col operator from Matlab") and its adjoint, each the other's
gradient. 2-D images only, one symmetric `pad`; windows of kernel_h x kernel_w taps
with dilation and stride as in Conv.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

_ARGS = [
    Arg("pad", int, 0, doc="zero padding on all four sides"),
    Arg("kernel", int, 0, doc="kernel size of both dimensions"),
    Arg("kernel_h", int, None, doc="kernel height (default: kernel)"),
    Arg("kernel_w", int, None, doc="kernel width (default: kernel)"),
    Arg("dilation", int, 1), Arg("dilation_h", int, None), Arg("dilation_w", int, None),
    Arg("stride", int, 1), Arg("stride_h", int, None), Arg("stride_w", int, None),
    Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"', check=lambda v: v in ("NCHW", "NHWC"),
        check_message="Unknown storage order", expected='"NCHW" or "NHWC"'),
]


def _params(kw: dict[str, Any]) -> tuple[int, int, int, int, int, int, int]:
    """kernel_h, kernel_w, dilation_h, dilation_w, stride_h, stride_w, pad: each
    ``_h`` / ``_w`` argument falls back to the common one, checked as Caffe2's
    constructor did."""
    def pick(name: str, side: str) -> int:
        v = kw[f"{name}_{side}"]
        return kw[name] if v is None else v

    values = {f"{n}_{s}": pick(n, s) for n in ("kernel", "dilation", "stride") for s in "hw"}
    for name, v in values.items():
        if v <= 0:
            raise ArgumentError(f"{name}_ > 0", arg=name, expected="a positive value", found=v)
    if kw["pad"] < 0:
        raise ArgumentError("pad_ >= 0", arg="pad", expected="pad >= 0", found=kw["pad"])
    return (values["kernel_h"], values["kernel_w"], values["dilation_h"], values["dilation_w"],
            values["stride_h"], values["stride_w"], kw["pad"])


def _nchw(shape, order: str):
    """N, C, H, W of a 4-D shape in ``order``."""
    if order == "NCHW":
        return tuple(shape)
    n, h, w, c = shape
    return n, c, h, w


def _out_size(size, kernel: int, dilation: int, stride: int, pad: int):
    dk = dilation * (kernel - 1) + 1
    if isinstance(size, str):
        return f"({size}+{2 * pad}-{dk})/{stride}+1"
    return (size + 2 * pad - dk) // stride + 1


def _geometry(shape, kw: dict[str, Any], blob: str) -> cp.Geometry:
    """The window geometry of a 4-D image shape, with Caffe2's run-time checks."""
    kh, kw_, dh, dw, sh, sw, pad = _params(kw)
    _, _, h, w = _nchw(shape, kw["order"])
    dkh, dkw = dh * (kh - 1) + 1, dw * (kw_ - 1) + 1
    enforce_cmp(h >= dkh, "H >= dkernel_h", h, dkh, "The image is lower than the dilated kernel",
                blob=blob)
    enforce_cmp(w >= dkw, "W >= dkernel_w", w, dkw, "The image is narrower than the dilated "
                "kernel", blob=blob)
    out = (_out_size(h, kh, dh, sh, pad), _out_size(w, kw_, dw, sw, pad))
    return cp.Geometry((kh, kw_), (sh, sw), (dh, dw), (pad, pad), (pad, pad), out)


def _check_4d(x: np.ndarray, blob: str) -> None:
    enforce_that(x.ndim == 4, "4 == X.dim()" if blob == "X" else "4 == Y->dim()",
                 blob=blob, expected="a 4-D image batch", found=dims(x.shape))


def _im2col_shape(x: TensorShape, **kw):
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, x.dtype),)
    kh, kw_, dh, dw, sh, sw, pad = _params(kw)
    n, c, h, w = _nchw(x.dims, kw["order"])
    oh, ow = _out_size(h, kh, dh, sh, pad), _out_size(w, kw_, dw, sw, pad)
    cols = c * kh * kw_ if isinstance(c, int) else f"{c}*{kh * kw_}"
    return (TensorShape((n, cols, oh, ow) if kw["order"] == "NCHW" else (n, oh, ow, cols),
                        x.dtype),)


@register_cpu_operator(
    "Im2Col",
    inputs=["X"],
    outputs=["Y"],
    args=_ARGS,
    shape=_im2col_shape,
    example=Example(
        {"X": np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)},
        {"Y": np.array([[[[0, 1], [3, 4]], [[1, 2], [4, 5]], [[3, 4], [6, 7]],
                         [[4, 5], [7, 8]]]], np.float32)},
        {"kernel": 2}),
    doc="""The windows of a 4-D image as columns. For X (N, C, H, W) in "NCHW" order, Y is
(N, C * kernel_h * kernel_w, out_h, out_w): Y[n, (c * kernel_h + i) * kernel_w + j, y,
x] = X[n, c, y * stride_h - pad + i * dilation_h, x * stride_w - pad + j * dilation_w]
(0 outside the image). In "NHWC" order X is (N, H, W, C) and Y (N, out_h, out_w,
kernel_h * kernel_w * C), the channels fastest. out_h = (H + 2 * pad - (dilation_h *
(kernel_h - 1) + 1)) / stride_h + 1, and likewise out_w; H and W must be at least the
dilated kernel. `kernel_h` / `kernel_w` (and the dilation and stride pairs) default to
`kernel` (`dilation`, `stride`). Float32 or float64.""",
)
def im2col(x, **kw):
    """Y: the columns of X's windows."""
    cp.check_float(x, "X")
    _check_4d(x, "X")
    geo = _geometry(x.shape, kw, "X")
    n = x.shape[0]
    if kw["order"] == "NCHW":
        cols = cp.windows(cp.pad_spatial(x, geo), geo)  # (N, C, kh, kw, oh, ow)
        return (cols.reshape(n, -1, *geo.out) if cols.size else
                np.zeros((n, x.shape[1] * geo.kernel[0] * geo.kernel[1], *geo.out), x.dtype),)
    cols = cp.windows_last(cp.pad_spatial_last(x, geo), geo)  # (N, oh, ow, kh, kw, C)
    return (cols.reshape(n, *geo.out, -1) if cols.size else
            np.zeros((n, *geo.out, geo.kernel[0] * geo.kernel[1] * x.shape[3]), x.dtype),)


@register_gradient("Im2Col")
def im2col_gradient_maker(g):
    """``Col2Im([dY, X]) -> [dX]``: X gives the image shape."""
    return [g.op_def("Col2Im", [g.GO(0), g.I(0)], [g.GI(0)])]


def _col2im_shape(x: TensorShape, z: TensorShape, **_):
    return (TensorShape(z.dims, x.dtype),)


@register_cpu_operator(
    "Col2Im",
    inputs=["X", "Z"],
    outputs=["Y"],
    args=_ARGS,
    shape=_col2im_shape,
    example=Example(
        {"X": np.ones((1, 4, 2, 2), np.float32), "Z": np.zeros((1, 1, 3, 3), np.float32)},
        {"Y": np.array([[[[1, 2, 1], [2, 4, 2], [1, 2, 1]]]], np.float32)},
        {"kernel": 2}),
    doc="""The adjoint of Im2Col: Y has Z's shape (Z gives only its shape: a 4-D image
batch in `order`), and every column value of X is added back at the image position
Im2Col read it from (values that fell in the padding are dropped). X must hold N *
kernel_h * kernel_w * C * out_h * out_w values, read in Im2Col's output layout (its
own shape is not looked at, as in Caffe2). Same arguments as Im2Col.""",
)
def col2im(x, z, **kw):
    """Y: the columns of X summed back into an image of Z's shape."""
    cp.check_float(x, "X")
    _check_4d(z, "Z")
    geo = _geometry(z.shape, kw, "Z")
    n, c, h, w = _nchw(z.shape, kw["order"])
    (kh, kw_), (oh, ow) = geo.kernel, geo.out
    want = n * kh * kw_ * c * oh * ow
    enforce_cmp(x.size == want, "X.numel() == N * kernel_h_ * kernel_w_ * C * out_h * out_w",
                x.size, want, blob="X")
    if kw["order"] == "NCHW":
        cols = x.reshape(n, c, kh, kw_, oh, ow)
    else:
        cols = x.reshape(n, oh, ow, kh, kw_, c).transpose(0, 5, 3, 4, 1, 2)
    padded = cp.scatter_windows(cols, (n, c, h + 2 * geo.pad_head[0], w + 2 * geo.pad_head[1]),
                                geo)
    y = cp.crop(padded, geo, (h, w))
    return (np.ascontiguousarray(y if kw["order"] == "NCHW" else y.transpose(0, 2, 3, 1)),)


@register_gradient("Col2Im")
def col2im_gradient_maker(g):
    """``Im2Col([dY]) -> [dX]``; Z gets no gradient."""
    return [g.op_def("Im2Col", [g.GO(0)], [g.GI(0)])]
