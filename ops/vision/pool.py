"""MaxPool and AveragePool (with their 1D/2D/3D aliases) and their gradient ops
(Caffe2 pool_op.cc): windows over 1 to 3 spatial dimensions, channels first or last,
with explicit pads, legacy padding and global pooling.

AveragePool divides by the window's size clipped to the input (Caffe2's default) or,
with `count_include_pad`, clipped to the padded input. The max of a window ignores its
padding. MaxPoolGradient gives dY to every input of a window that equals the window's
max, as Caffe2's CPU kernel does.
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
from caffe2lite.schema.shapes import TensorShape, numel, nbytes, Cost

from .._dense import dims, enforce_cmp
from . import _convpool as cp

_AVG_ARGS = cp.CONV_POOL_ARGS + [
    Arg("count_include_pad", bool, False, doc="average over the padded window"),
]


def _counts(geo: cp.Geometry, spatial, include_pad: bool) -> np.ndarray:
    """The divisor of every output position: the window's extent within the input
    (or within the padded input, with include_pad), as an outer product over dims."""
    total = np.ones((), np.int64)
    for d in range(geo.ndim):
        start = np.arange(geo.out[d]) * geo.stride[d] - geo.pad_head[d]
        end = start + geo.kernel[d]
        if include_pad:
            lo, hi = -geo.pad_head[d], spatial[d] + geo.pad_tail[d]
        else:
            lo, hi = 0, spatial[d]
        extent = np.minimum(end, hi) - np.maximum(start, lo)
        total = np.multiply.outer(total, np.maximum(extent, 0))
    return total


def _check_input(x: np.ndarray, kw) -> cp.Geometry:
    cp.check_float(x, "X")
    cp.check_image(x, "X")
    return cp.geometry(cp.spatial_of(x.shape, kw["order"]), kw, pooling=True)


def max_pool(x: np.ndarray, kw) -> np.ndarray:
    geo = _check_input(x, kw)
    xc = cp.to_channels_first(x, kw["order"])
    xp = cp.pad_spatial(xc, geo, value=-np.inf)
    win = cp.windows(xp, geo)
    axes = tuple(range(2, 2 + geo.ndim))
    y = win.max(axis=axes) if win.size else np.full(win.shape[:2] + geo.out, -np.inf, x.dtype)
    return cp.from_channels_first(y.astype(x.dtype, copy=False), kw["order"])


def average_pool(x: np.ndarray, kw, include_pad: bool) -> np.ndarray:
    geo = _check_input(x, kw)
    xc = cp.to_channels_first(x, kw["order"])
    win = cp.windows(cp.pad_spatial(xc, geo), geo)
    axes = tuple(range(2, 2 + geo.ndim))
    counts = _counts(geo, cp.spatial_of(x.shape, kw["order"]), include_pad)
    y = win.sum(axis=axes, dtype=x.dtype) / np.maximum(counts, 1).astype(x.dtype)
    return cp.from_channels_first(y.astype(x.dtype, copy=False), kw["order"])


def _pool_shape(x: TensorShape, **kw):
    """Caffe2's TensorInferenceForPool: the channels pass through (a symbol too)."""
    spatial = None if x.dims is None or len(x.dims) < 3 else cp.spatial_of(x.dims, kw["order"])
    if spatial is None or not all(isinstance(d, int) for d in spatial):
        return (TensorShape(None, x.dtype),)
    geo = cp.geometry(spatial, kw, pooling=True)
    c = cp.channels_of(x.dims, kw["order"])
    return (TensorShape(cp.image_shape(x.dims[0], c, geo.out, kw["order"]), x.dtype),)


def _pool_cost(x: TensorShape, *, outputs, **kw):
    """One flop per window element read, every input read once, the output written."""
    y = outputs[0]
    if not y.known:
        return Cost()
    geo = cp.geometry(cp.spatial_of(x.dims, kw["order"]), kw, pooling=True)
    return Cost(flops=numel(y) * int(np.prod(geo.kernel)), bytes_read=nbytes(x),
                bytes_written=nbytes(y))


_X = np.array([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]], np.float32)
_DOC = """{kind} pooling over windows of X ({dim}1 to 3 spatial dimensions; "NCHW" or
"NHWC" order): each output is the {what} of a `kernel`-sized window moved by `stride`
over X padded by `pads` (or `pad`, `pad_t`/`pad_l`/`pad_b`/`pad_r`; `legacy_pad` as in
Caffe2; `global_pooling` pools the whole image). Output size per dimension:
floor((in + pad_head + pad_tail - kernel) / stride) + 1. Float32 or float64.{extra}"""


def _register_forward(op_type: str, kind: str, dim: str) -> None:
    if kind == "max":
        args, what, extra = cp.CONV_POOL_ARGS, "maximum", " Padding never wins a max."
        example = Example({"X": _X}, {"Y": np.array([[[[5, 6], [8, 9]]]], np.float32)},
                          {"kernel": 2})

        def kernel(x, **kw):
            """Y = max over each window of X."""
            return (max_pool(x, kw),)
    else:
        args, what = _AVG_ARGS, "mean"
        extra = (" The mean divides by the window's size within X (within the padded X "
                 "with `count_include_pad`).")
        example = Example({"X": _X}, {"Y": np.array([[[[1, 1.5, 2.5, 3], [2.5, 3, 4, 4.5],
                                                      [5.5, 6, 7, 7.5], [7, 7.5, 8.5, 9]]]],
                                                    np.float32)},
                          {"kernel": 2, "pad": 1})

        def kernel(x, **kw):
            """Y = mean over each window of X."""
            include = kw.pop("count_include_pad")
            return (average_pool(x, kw, include),)

    register_cpu_operator(
        op_type, inputs=["X"], outputs=["Y"], args=args, shape=_pool_shape,
        cost=_pool_cost, example=example,
        doc=_DOC.format(kind="Max" if kind == "max" else "Average", dim=dim, what=what,
                        extra=extra),
    )(kernel)
    register_gradient(op_type)(_pool_gradient_maker)


def _pool_gradient_maker(g):
    """``<Op>Gradient([X, Y, dY]) -> [dX]``."""
    return [g.op_def(g.def_.type + "Gradient", [g.I(0), g.O(0), g.GO(0)], [g.GI(0)])]


for _kind, _name in (("max", "MaxPool"), ("avg", "AveragePool")):
    _register_forward(_name, _kind, "")
    for _d in ("1D", "2D", "3D"):
        _register_forward(_name + _d, _kind, f"the {_d} alias: ")


# -- gradients -----------------------------------------------------------------------


def _check_grad(x, y, dy, kw):
    geo = _check_input(x, kw)
    cp.check_float(y, "Y", x.dtype)
    cp.check_float(dy, "dY", x.dtype)
    want = cp.image_shape(x.shape[0], cp.channels_of(x.shape, kw["order"]), geo.out,
                          kw["order"])
    enforce_cmp(y.shape == want, "Y.sizes() == pooled sizes", dims(y.shape), dims(want), blob="Y")
    enforce_cmp(dy.shape == y.shape, "dY.sizes() == Y.sizes()", dims(dy.shape), dims(y.shape),
                blob="dY")
    return geo


def max_pool_gradient(x, y, dy, kw):
    geo = _check_grad(x, y, dy, kw)
    order = kw["order"]
    xc = cp.to_channels_first(x, order)
    xp = cp.pad_spatial(xc, geo, value=-np.inf)
    win = cp.windows(xp, geo)
    nd = geo.ndim
    expand = (slice(None), slice(None)) + (None,) * nd
    yc, dyc = cp.to_channels_first(y, order), cp.to_channels_first(dy, order)
    hit = win == yc[expand]
    cols = np.where(hit, dyc[expand], 0).astype(x.dtype)
    dxp = cp.scatter_windows(cols, xp.shape, geo)
    dx = cp.crop(dxp, geo, cp.spatial_of(x.shape, order))
    return cp.from_channels_first(np.ascontiguousarray(dx), order)


def average_pool_gradient(x, y, dy, kw, include_pad):
    geo = _check_grad(x, y, dy, kw)
    order = kw["order"]
    spatial = cp.spatial_of(x.shape, order)
    xc = cp.to_channels_first(x, order)
    padded = xc.shape[:2] + tuple(s + h + t for s, h, t in zip(spatial, geo.pad_head, geo.pad_tail))
    counts = np.maximum(_counts(geo, spatial, include_pad), 1).astype(x.dtype)
    share = cp.to_channels_first(dy, order) / counts
    nd = geo.ndim
    cols = np.broadcast_to(share[(slice(None), slice(None)) + (None,) * nd],
                           xc.shape[:2] + geo.kernel + geo.out)
    dxp = cp.scatter_windows(cols, padded, geo)  # what lands on padding is cropped away
    dx = cp.crop(dxp, geo, spatial)
    return cp.from_channels_first(np.ascontiguousarray(dx), order)


def _grad_shape(x: TensorShape, y: TensorShape, dy: TensorShape):
    return (x,)


def _register_gradient(op_type: str, kind: str) -> None:
    if kind == "max":
        args = cp.CONV_POOL_ARGS
        example = Example({"X": _X, "Y": np.array([[[[5, 6], [8, 9]]]], np.float32),
                           "dY": np.ones((1, 1, 2, 2), np.float32)},
                          {"dX": np.array([[[[0, 0, 0], [0, 1, 1], [0, 1, 1]]]], np.float32)},
                          {"kernel": 2})

        def kernel(x, y, dy, **kw):
            """dX: dY at the inputs that were their window's max."""
            return (max_pool_gradient(x, y, dy, kw),)
    else:
        args = _AVG_ARGS
        example = Example({"X": _X, "Y": np.array([[[[3, 4], [6, 7]]]], np.float32),
                           "dY": np.ones((1, 1, 2, 2), np.float32)},
                          {"dX": np.array([[[[0.25, 0.5, 0.25], [0.5, 1, 0.5],
                                              [0.25, 0.5, 0.25]]]], np.float32)},
                          {"kernel": 2})

        def kernel(x, y, dy, **kw):
            """dX: each dY shared equally among its window's inputs."""
            include = kw.pop("count_include_pad")
            return (average_pool_gradient(x, y, dy, kw, include),)

    register_cpu_operator(
        op_type, inputs=["X", "Y", "dY"], outputs=["dX"], args=args, shape=_grad_shape,
        example=example,
        doc=f"Gradient of {op_type[:-len('Gradient')]}: dX from X, the forward output Y "
            "and its gradient dY, with the forward op's arguments.",
    )(kernel)
    gradient_not_implemented_yet(op_type)


for _kind, _name in (("max", "MaxPool"), ("avg", "AveragePool")):
    for _d in ("", "1D", "2D", "3D"):
        _register_gradient(f"{_name}{_d}Gradient", _kind)
