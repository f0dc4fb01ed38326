"""LpPool and LpPoolGradient (Caffe2 lp_pool_op.cc): the L_p norm of each pooling
window, Y = (sum over the window of |x|^p)^(1/p), over the two spatial dimensions of
an NCHW or NHWC image, with the pooling ops' kernel/stride/pad/legacy_pad/
global_pooling arguments. As Caffe2's PoolOp: no dilation, and pads smaller than the
kernel. A window sums only the elements inside X (padding adds nothing).
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

_ARGS = [Arg("p", float, 2.0, doc="the order of the norm")] + cp.CONV_POOL_ARGS


def _check_args(kw) -> None:
    """Caffe2's PoolOp constructor checks."""
    parsed = cp.parse(kw)
    bad = [d for d in parsed["dilation"] or () if d != 1]
    if bad:
        raise ArgumentError(
            f"dilation_[i] == 1. {bad[0]} vs 1. Pooling op does not support dilation "
            "right now.",
            arg="dilation",
            expected="1",
            found=parsed["dilation"],
        )
    kernel, pads = parsed["kernel"], parsed["pads"]
    if (
        not kw["global_pooling"]
        and kernel is not None
        and pads is not None
        and len(pads) == 2 * len(kernel)
    ):
        n = len(kernel)
        if any(pads[i] >= kernel[i] or pads[i + n] >= kernel[i] for i in range(n)):
            raise ArgumentError(
                "pads_[i] < kernel_[i] && pads_[i + kernel_size] < kernel_[i]. "
                "Pad should be smaller than kernel.",
                arg="pads",
                expected=f"pads < kernel {kernel}",
                found=pads,
            )


def _check_image(x: np.ndarray, blob: str) -> None:
    # Caffe2's LpPool kernels read X.dim32(1..3): two spatial dimensions only.
    enforce_that(
        x.ndim == 4,
        f"{blob}.dim() == 4",
        f"LpPool pools two spatial dimensions: {blob} must be 4-D",
        blob=blob,
        expected="a 4-D tensor (N, C, H, W) or (N, H, W, C)",
        found=dims(x.shape),
    )


def _geometry(x: np.ndarray, kw) -> cp.Geometry:
    _check_args(kw)
    cp.check_float(x, "X")
    _check_image(x, "X")
    return cp.geometry(cp.spatial_of(x.shape, kw["order"]), kw, pooling=True)


def lp_pool(x: np.ndarray, p: float, kw) -> np.ndarray:
    geo = _geometry(x, kw)
    xc = cp.to_channels_first(x, kw["order"])
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        powered = np.power(np.abs(xc), x.dtype.type(p))
        # Padding holds 0 so that it adds nothing: the sum runs over the window's part
        # inside X, as Caffe2's clipped loops do (whatever p is).
        win = cp.windows(cp.pad_spatial(powered, geo), geo)
        total = win.sum(axis=(2, 3), dtype=x.dtype)
        y = np.power(total, x.dtype.type(1.0 / p))
    return cp.from_channels_first(y.astype(x.dtype, copy=False), kw["order"])


def lp_pool_gradient(x, y, dy, p: float, kw) -> np.ndarray:
    geo = _geometry(x, kw)
    order = kw["order"]
    cp.check_float(y, "Y", x.dtype)
    cp.check_float(dy, "dY", x.dtype)
    want = cp.image_shape(x.shape[0], cp.channels_of(x.shape, order), geo.out, order)
    enforce_cmp(
        y.shape == want,
        "Y.sizes() == pooled sizes",
        dims(y.shape),
        dims(want),
        blob="Y",
    )
    enforce_cmp(
        dy.shape == y.shape,
        "dY.sizes() == Y.sizes()",
        dims(dy.shape),
        dims(y.shape),
        blob="dY",
    )
    t = x.dtype.type
    xc = cp.to_channels_first(x, order)
    yc, dyc = cp.to_channels_first(y, order), cp.to_channels_first(dy, order)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        # dX += dY * x * |x|^(p-2) / Y^(p-1) over every window holding x.
        local = xc * np.power(np.abs(xc), t(p - 2))
        scale = dyc / np.power(yc, t(p - 1))
        xp = cp.pad_spatial(local, geo)
        win = cp.windows(xp, geo)
        cols = win * scale[:, :, None, None]
    dxp = cp.scatter_windows(cols.astype(x.dtype, copy=False), xp.shape, geo)
    dx = cp.crop(dxp, geo, cp.spatial_of(x.shape, order))
    return cp.from_channels_first(np.ascontiguousarray(dx), order)


def _shape(x: TensorShape, **kw):
    if x.dims is None or len(x.dims) != 4:
        return (TensorShape(None, x.dtype),)
    spatial = cp.spatial_of(x.dims, kw["order"])
    if not all(isinstance(d, int) for d in spatial):
        return (TensorShape(None, x.dtype),)
    geo = cp.geometry(spatial, kw, pooling=True)
    c = cp.channels_of(x.dims, kw["order"])
    return (TensorShape(cp.image_shape(x.dims[0], c, geo.out, kw["order"]), x.dtype),)


def _grad_shape(x: TensorShape, y: TensorShape, dy: TensorShape):
    return (x,)


_X = np.array([[[[3, 0, -1], [4, 0, 1], [0, 2, 2]]]], np.float32)
_Y = np.sqrt(np.array([[[[25, 2], [20, 9]]]], np.float32))


@register_cpu_operator(
    "LpPool",
    inputs=["X"],
    outputs=["Y"],
    args=_ARGS,
    shape=_shape,
    example=Example({"X": _X}, {"Y": _Y}, {"kernel": 2, "p": 2.0}),
    doc="""L_p pooling: each output is the L_p norm (sum of |x|^p, to the power 1/p) of
a `kernel`-sized window of X moved by `stride` over X padded by `pads` (or `pad`,
`pad_t`/`pad_l`/`pad_b`/`pad_r`; `legacy_pad`; `global_pooling` pools the whole
image). X is a 4-D float image, "NCHW" or "NHWC" (`order`); `p` (float, default 2.0)
is the norm's order. Only X's elements count (padding adds nothing). As Caffe2's
pooling ops: `dilation` must be 1 and pads smaller than the kernel.

Example: X=[[[[3, 0, -1], [4, 0, 1], [0, 2, 2]]]] with kernel=2, p=2 ->
Y=[[[[5, 1.4142135], [4.472136, 3]]]]""",
)
def lp_pool_op(x, *, p, **kw):
    """Y = (sum over each window of |X|^p)^(1/p)."""
    return (lp_pool(x, p, kw),)


@register_gradient("LpPool")
def _lp_pool_gradient_maker(g):
    """``LpPoolGradient([X, Y, dY]) -> [dX]``."""
    return [g.op_def("LpPoolGradient", [g.I(0), g.O(0), g.GO(0)], [g.GI(0)])]


_DY = np.ones((1, 1, 2, 2), np.float32)


@register_cpu_operator(
    "LpPoolGradient",
    inputs=["X", "Y", "dY"],
    outputs=["dX"],
    args=_ARGS,
    shape=_grad_shape,
    example=Example(
        {
            "X": np.array([[[[3, 4], [0, 0]]]], np.float32),
            "Y": np.array([[[[5]]]], np.float32),
            "dY": np.array([[[[10]]]], np.float32),
        },
        {"dX": np.array([[[[6, 8], [0, 0]]]], np.float32)},
        {"kernel": 2},
    ),
    doc="""Gradient of LpPool: dX from X, the forward output Y and its gradient dY, with
the forward op's arguments: every window adds dY * x * |x|^(p-2) / Y^(p-1) to each of
its inputs x (x / Y for p=2). A window whose Y is 0 gives NaN, as the formula does.

Example: X=[[[[3, 4], [0, 0]]]], Y=[[[[5]]]], dY=[[[[10]]]] with kernel=2 ->
dX=[[[[6, 8], [0, 0]]]]""",
)
def lp_pool_gradient_op(x, y, dy, *, p, **kw):
    """dX = sum over the windows of dY * x |x|^(p-2) / Y^(p-1)."""
    return (lp_pool_gradient(x, y, dy, p, kw),)


gradient_not_implemented_yet("LpPoolGradient")
