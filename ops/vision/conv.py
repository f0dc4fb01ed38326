"""Conv (and its aliases Conv1D, Conv2D, Conv3D) and ConvGradient (Caffe2 conv_op.cc,
conv_gradient_op.cc): grouped, strided, dilated, padded convolution over 1 to 3
spatial dimensions, channels first (NCHW) or last (NHWC).

The forward op gathers the input's windows (im2col) a block of output rows at a
time and multiplies each block by the filter, so the gathered matrix stays near the
input's size; the gradient works one kernel tap at a time. Nothing loops over
pixels.
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
from caffe2lite.schema.shapes import UNKNOWN, Cost, TensorShape, nbytes

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

CONV_ARGS = cp.CONV_POOL_ARGS + [
    Arg("group", int, 1, doc="number of channel groups", check=lambda g: g >= 1,
        check_message="group must be positive", expected="a positive group"),
    Arg("float16_compute", bool, False, doc="accepted; the CPU computes in the input type"),
    Arg("no_gradient_to_input", bool, False, doc="the gradient skips X"),
]

_DOC = """{dim}convolution of X with the filters in `filter`, plus `bias` when given.

X is (N, C, *spatial) in "NCHW" order or (N, *spatial, C) in "NHWC"; `filter` is
(M, C/group, *kernel) in NCHW or (M, *kernel, C/group) in NHWC; `bias` has M entries.
Each output dimension is floor((in + pad_head + pad_tail - dilation*(kernel-1) - 1) /
stride) + 1 (legacy_pad VALID/SAME/CAFFE_LEGACY_POOLING as in Caffe2). With `group`
G, input and output channels split into G groups convolved separately. When no
kernel argument is given the kernel is the filter's. Float32 or float64."""

_EXAMPLE = Example(
    {"X": np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3),
     "filter": np.ones((1, 1, 2, 2), np.float32), "bias": np.array([2.0], np.float32)},
    {"Y": np.array([[[[2, 3, 5, 4], [5, 10, 14, 9], [11, 22, 26, 15], [8, 15, 17, 10]]]],
                   np.float32)},
    {"kernel": 2, "pad": 1})


def _resolve(x: np.ndarray, w: np.ndarray, kw: dict, op: str = "Conv"):
    """Checks of Caffe2's ConvOp, then the geometry."""
    cp.check_float(x, "X")
    cp.check_float(w, "filter", x.dtype)
    order, g = kw["order"], kw["group"]
    cp.check_image(x, "X")
    enforce_cmp(x.ndim == w.ndim, "X.dim() == filter.dim()", x.ndim, w.ndim, blob="filter")
    c = cp.channels_of(x.shape, order)
    m = w.shape[0]
    kernel_dims = w.shape[2:] if order == "NCHW" else w.shape[1:-1]
    w_channels = w.shape[1] if order == "NCHW" else w.shape[-1]
    enforce_cmp(c == w_channels * g, f"C == filter.dim32({1 if order == 'NCHW' else w.ndim - 1}) * G",
                c, w_channels * g,
                f"Convolution op: input channels does not match: # of input channels {c} "
                f"is not equal to kernel channels * group: {w_channels}*{g}", blob="filter")
    enforce_cmp(m % g == 0, "M % G == 0", m % g, 0,
                "The number of output channels is not divisible by group.", blob="filter")
    geo = cp.geometry(cp.spatial_of(x.shape, order), kw, kernel_from=kernel_dims)
    first = 2 if order == "NCHW" else 1
    for i, k in enumerate(geo.kernel):
        enforce_cmp(kernel_dims[i] == k, f"filter.dim32({i + first}) == kernel_[{i}]",
                    kernel_dims[i], k, f"The filter {dims(w.shape)} does not have the "
                    f"kernel size {list(geo.kernel)} in {order} order", blob="filter")
    return geo, c, m, g


def _filter_cf(w: np.ndarray, order: str) -> np.ndarray:
    """The filter as (M, C/G, *kernel)."""
    return w if order == "NCHW" else np.moveaxis(w, -1, 1)


def _offset_view(xp: np.ndarray, geo: cp.Geometry, offset: tuple[int, ...]) -> np.ndarray:
    """The input values that kernel tap ``offset`` meets at every output position:
    a strided view (N, C, *out) of the padded channels-first input."""
    index = [slice(None), slice(None)]
    for d in range(geo.ndim):
        start = offset[d] * geo.dilation[d]
        index.append(slice(start, start + geo.stride[d] * (geo.out[d] - 1) + 1, geo.stride[d]))
    return xp[tuple(index)]


def _padded_image_last(x: np.ndarray, i: int, geo: cp.Geometry, order: str) -> np.ndarray:
    """Image ``i`` of ``x``, channels last, padded: one (1, *padded spatial, C) copy."""
    img = x[i:i + 1] if order == "NHWC" else np.moveaxis(x[i:i + 1], 1, -1)
    shape = (1,) + tuple(s + h + t for s, h, t in zip(img.shape[1:-1], geo.pad_head,
                                                       geo.pad_tail)) + img.shape[-1:]
    if shape == img.shape and order == "NHWC":
        return img
    out = np.zeros(shape, dtype=x.dtype)
    out[(slice(None),) + tuple(slice(h, h + s) for h, s in zip(geo.pad_head, img.shape[1:-1]))
        + (slice(None),)] = img
    return out


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, kw: dict) -> np.ndarray:
    """Y by im2col in blocks of output rows, per image and group. Each image is copied
    once, padded and channels last, so that every window is a run of (kernel taps x
    channels) contiguous values; a block of windows is gathered into a (positions,
    taps * channels) matrix and multiplied by the filter, and the product is written
    into the output in its order. The gathered matrix stays near a quarter of an image."""
    geo, c, m, g = _resolve(x, w, kw)
    order = kw["order"]
    if b is not None:
        cp.check_float(b, "bias", x.dtype)
        enforce_that(b.ndim == 1 and b.shape[0] == m, "bias.dim() == 1 && bias.dim32(0) == M",
                     blob="bias", expected=f"a bias of {m} values", found=dims(b.shape))
    n, nd = x.shape[0], geo.ndim
    cg, mg = c // g, m // g
    taps = int(np.prod(geo.kernel))
    rest = int(np.prod(geo.out[1:]))
    image_size = x[0].size if n else 0  # an empty batch (no RoIs) gives an empty Y
    rows = max(1, min(geo.out[0], max(image_size // 4, 1 << 15) // max(cg * taps * rest, 1)))
    wl = w if order == "NHWC" else np.moveaxis(w, 1, -1)  # (M, *kernel, C/G)
    wm = [np.ascontiguousarray(wl[gi * mg:(gi + 1) * mg].reshape(mg, taps * cg).T)
          for gi in range(g)]
    y = np.empty(cp.image_shape(n, m, geo.out, order), dtype=x.dtype)
    for i in range(n):
        cols = cp.windows_last(_padded_image_last(x, i, geo, order), geo)[0]  # (*out, *k, C)
        for r0 in range(0, geo.out[0], rows):
            r1 = min(r0 + rows, geo.out[0])
            block = cols[r0:r1]
            for gi in range(g):
                mat = block[..., gi * cg:(gi + 1) * cg].reshape((r1 - r0) * rest, taps * cg)
                part = (mat @ wm[gi]).reshape((r1 - r0,) + geo.out[1:] + (mg,))
                if order == "NHWC":
                    y[i, r0:r1, ..., gi * mg:(gi + 1) * mg] = part
                else:
                    y[i, gi * mg:(gi + 1) * mg, r0:r1] = np.moveaxis(part, -1, 0)
    if b is not None:
        cp.to_channels_first(y, order)[...] += b.reshape((m,) + (1,) * nd)
    return y


def _conv_shape(x: TensorShape, w: TensorShape, b: TensorShape = UNKNOWN, **kw):
    """Caffe2's TensorInferenceForConv: (N, M, *out) or (N, *out, M). With the filter
    unknown (a predict net without its init net) M is the symbol "M" and the kernel
    comes from the arguments."""
    order = kw["order"]
    spatial = None if x.dims is None or len(x.dims) < 3 else cp.spatial_of(x.dims, order)
    if spatial is None or not all(isinstance(d, int) for d in spatial):
        return (TensorShape(None, x.dtype),)
    if w.dims is not None and all(isinstance(d, int) for d in w.dims):
        kernel, m = (w.dims[2:] if order == "NCHW" else w.dims[1:-1]), w.dims[0]
    elif cp.parse(kw)["kernel"] is not None or kw["global_pooling"]:
        kernel, m = None, "M"
    else:
        return (TensorShape(None, x.dtype),)
    geo = cp.geometry(spatial, kw, kernel_from=kernel)
    return (TensorShape(cp.image_shape(x.dims[0], m, geo.out, order), x.dtype),)


def _conv_cost(x: TensorShape, w: TensorShape, b: TensorShape = UNKNOWN, *, outputs, **kw):
    """Caffe2's CostInferenceForConv: 2 flops per multiply-add of every output."""
    y = outputs[0]
    if not (y.known and w.known):
        return Cost()
    order = kw["order"]
    out_spatial = cp.spatial_of(y.dims, order)
    kernel = w.dims[2:] if order == "NCHW" else w.dims[1:-1]
    c_per_group = w.dims[1] if order == "NCHW" else w.dims[-1]
    flops = 2 * int(np.prod(out_spatial)) * int(np.prod(kernel)) * c_per_group * w.dims[0] * y.dims[0]
    return Cost(flops=flops, bytes_read=nbytes(x) + nbytes(w) + nbytes(b),
                bytes_written=nbytes(y), params_bytes=nbytes(w) + nbytes(b))


def _register(op_type: str, dim: str, cost: bool) -> None:
    @register_cpu_operator(
        op_type,
        inputs=["X", "filter", "bias"],
        outputs=["Y"],
        num_inputs=(2, 3),
        args=CONV_ARGS,
        shape=_conv_shape,
        cost=_conv_cost if cost else None,
        example=_EXAMPLE,
        doc=_DOC.format(dim=dim),
    )
    def conv(x, filter, bias=None, **kw):
        """Y = conv(X, filter) + bias."""
        return (conv_forward(x, filter, bias, kw),)

    register_gradient(op_type)(_gradient_maker)


def _gradient_maker(g):
    """``<Op>Gradient([X, filter, dY])`` -> filter, bias (when the forward op had one)
    and X gradients; ``no_bias=1`` without a bias; X's gradient is skipped with
    ``no_gradient_to_input``."""
    grad_type = g.def_.type + "Gradient"
    to_input = not g.arg("no_gradient_to_input", 0)
    ins = [g.I(0), g.I(1), g.GO(0)]
    if len(g.def_.input) == 3:
        outs = [g.GI(1), g.GI(2)] + ([g.GI(0)] if to_input else [])
        return [g.op_def(grad_type, ins, outs)]
    outs = [g.GI(1)] + ([g.GI(0)] if to_input else [])
    return [g.op_def(grad_type, ins, outs, no_bias=1)]


for _type, _dim, _cost in (("Conv", "", True), ("Conv1D", "1-D ", False),
                           ("Conv2D", "2-D ", True), ("Conv3D", "3-D ", True)):
    _register(_type, _dim, _cost)


# -- the gradient --------------------------------------------------------------------


def conv_backward(x: np.ndarray, w: np.ndarray, dy: np.ndarray, kw: dict, no_bias: bool,
                  want_dx: bool) -> tuple:
    """dfilter, dbias and dX, one kernel tap at a time (no im2col buffer)."""
    geo, c, m, g = _resolve(x, w, kw)
    order = kw["order"]
    cp.check_float(dy, "dY", x.dtype)
    want = cp.image_shape(x.shape[0], m, geo.out, order)
    enforce_cmp(dy.shape == want, "dY.sizes() == Y.sizes()", dims(dy.shape), dims(want),
                blob="dY")
    nd = geo.ndim
    xc = cp.to_channels_first(x, order)
    dyc = cp.to_channels_first(dy, order)
    xp = cp.pad_spatial(xc, geo)
    wc = _filter_cf(w, order)
    cg, mg = c // g, m // g
    dw = np.empty_like(wc)
    dxp = np.zeros(xp.shape, x.dtype) if want_dx else None
    sum_axes = [0] + list(range(2, 2 + nd))
    for offset in np.ndindex(*geo.kernel):
        xs = _offset_view(xp, geo, offset)
        dxs = _offset_view(dxp, geo, offset) if want_dx else None
        for gi in range(g):
            dys = dyc[:, gi * mg:(gi + 1) * mg]  # (N, Mg, *out)
            tap = (slice(gi * mg, (gi + 1) * mg), slice(None)) + offset
            dw[tap] = np.tensordot(dys, xs[:, gi * cg:(gi + 1) * cg], axes=(sum_axes, sum_axes))
            if want_dx:
                # (Cg, N, *out) -> (N, Cg, *out), added where this tap read X.
                part = np.tensordot(wc[tap], dys, axes=([0], [1]))
                dxs[:, gi * cg:(gi + 1) * cg] += np.moveaxis(part, 0, 1)
    dfilter = dw if order == "NCHW" else np.ascontiguousarray(np.moveaxis(dw, 1, -1))
    result = [dfilter]
    if not no_bias:
        result.append(dyc.sum(axis=(0,) + tuple(range(2, 2 + nd)), dtype=x.dtype))
    if want_dx:
        dx = cp.crop(dxp, geo, cp.spatial_of(x.shape, order))
        result.append(cp.from_channels_first(np.ascontiguousarray(dx), order))
    return tuple(result)


def _grad_shape(x: TensorShape, w: TensorShape, dy: TensorShape, *, no_bias, num_outputs, **kw):
    out = [w]
    if not no_bias:
        out.append(TensorShape(None if w.dims is None else (w.dims[0],), w.dtype))
    if len(out) < num_outputs:
        out.append(x)
    return tuple(out)


_GRAD_EXAMPLE = Example(
    {"X": np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2),
     "filter": np.ones((1, 1, 2, 2), np.float32), "dY": np.ones((1, 1, 1, 1), np.float32)},
    {"filter_grad": np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2),
     "bias_grad": np.array([1.0], np.float32),
     "X_grad": np.ones((1, 1, 2, 2), np.float32)},
    {"kernel": 2})


def _register_gradient_op(op_type: str) -> None:
    @register_cpu_operator(
        op_type,
        inputs=["X", "filter", "dY"],
        outputs=["filter_grad", "bias_grad", "X_grad"],
        num_inputs=(2, 3),
        num_outputs=(1, 3),
        args=CONV_ARGS + [Arg("no_bias", bool, False, doc="the forward op had no bias")],
        shape=_grad_shape,
        example=_GRAD_EXAMPLE,
        doc="""Gradient of the convolution: the filter's gradient, the bias's (unless
`no_bias`), and, when one more output is asked for, X's. Same arguments as the
forward op.""",
    )
    def conv_gradient(x, filter, dy=None, *, num_outputs, **kw):
        """dfilter, dbias, dX of a convolution."""
        no_bias = kw.pop("no_bias")
        kw.pop("float16_compute", None)
        if dy is None:
            raise cp.ShapeError("ConvGradient requires 3 inputs", expected="X, filter, dY",
                                found="2 inputs")
        want_dx = num_outputs == (2 if no_bias else 3)
        return conv_backward(x, filter, dy, kw, no_bias, want_dx)

    gradient_not_implemented_yet(op_type)


for _type in ("ConvGradient", "Conv1DGradient", "Conv2DGradient", "Conv3DGradient"):
    _register_gradient_op(_type)
