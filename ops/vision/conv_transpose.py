"""ConvTranspose and ConvTransposeGradient (Caffe2 conv_transpose_op.cc,
conv_transpose_unpool_op_base.h): the adjoint of a 2-D convolution, with `adj` extra
rows/columns at the tail of the output and optional channel groups.

Each input pixel spreads its values through the filter into a (stride-spaced)
output image; the spreading is done one kernel offset at a time, then the pads are
cropped away.
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
from caffe2lite.schema.shapes import UNKNOWN, TensorShape

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

_ARGS = [a for a in cp.CONV_POOL_ARGS if a.name not in (
    "dilation", "dilations", "dilation_h", "dilation_w", "global_pooling")] + [
    Arg("adj", int, None, doc="extra output rows/columns at the tail (both dimensions)"),
    Arg("adjs", "ints", None), Arg("adj_h", int, None), Arg("adj_w", int, None),
    Arg("group", int, 1, check=lambda g: g >= 1, check_message="group must be positive",
        expected="a positive group"),
]


def _geometry(spatial, kw) -> tuple[cp.Geometry, tuple[int, ...]]:
    """The equivalent convolution geometry (kernel, stride, out = input size) and the
    transposed output size, as Caffe2's ConvTransposeUnpoolBase computes it."""
    full = dict(kw, dilation=None, dilations=None, dilation_h=None, dilation_w=None,
                global_pooling=False)
    p = cp.parse(full)
    kernel = p["kernel"]
    if kernel is None:
        raise ArgumentError("kernel_[dim] > 0. 0 vs 0", arg="kernel",
                            expected="a kernel size", found="none")
    nd = len(spatial)
    enforce_cmp(nd == 2, "4 == input.dim()", nd + 2, 4, "ConvTranspose is 2-D only")
    stride = p["stride"] or [1] * len(kernel)
    pads = p["pads"] or [0] * (2 * len(kernel))
    adj = cp._pair(kw["adj"], kw["adjs"], kw["adj_h"], kw["adj_w"], "adj") or [0] * len(kernel)
    enforce_cmp(len(stride) == len(kernel), "stride_.size() == kernel_.size()", len(stride),
                len(kernel), error=ArgumentError)
    enforce_cmp(len(adj) == len(kernel), "adj_.size() == kernel_.size()", len(adj),
                len(kernel), error=ArgumentError)
    enforce_cmp(len(kernel) == 2, "kernel_.size() == 2", len(kernel), 2, error=ArgumentError)
    legacy = kw["legacy_pad"]
    if legacy == cp.CAFFE_LEGACY_POOLING:
        raise ArgumentError("CAFFE_LEGACY_POOLING is no longer supported.", arg="legacy_pad",
                            expected="0, 1 or 2", found=legacy)
    if legacy not in (cp.VALID, cp.SAME):
        enforce_cmp(len(pads) == 2 * len(kernel), "pads_.size() == 2 * kernel_.size()",
                    len(pads), 2 * len(kernel), error=ArgumentError)
    for d in range(2):
        enforce_cmp(kernel[d] > 0, "kernel_[dim] > 0", kernel[d], 0, error=ArgumentError)
        enforce_cmp(stride[d] > 0, "stride_[dim] > 0", stride[d], 0, error=ArgumentError)
        enforce_cmp(adj[d] >= 0, "adj_[dim] >= 0", adj[d], 0, error=ArgumentError)
        enforce_cmp(adj[d] <= stride[d], "adj_[dim] <= stride_[dim]", adj[d], stride[d],
                    error=ArgumentError)
    if legacy in (cp.VALID, cp.SAME):
        head, tail = (0, 0), (0, 0)
    else:
        head, tail = tuple(pads[:2]), tuple(pads[2:])
    out = tuple((spatial[d] - 1) * stride[d] + kernel[d] + adj[d] - head[d] - tail[d]
                for d in range(2))
    for d in range(2):
        enforce_cmp(out[d] > 0, "output size > 0", out[d], 0,
                    "The pads remove the whole output", error=ArgumentError)
    geo = cp.Geometry(tuple(kernel), tuple(stride), (1, 1), tuple(head), tuple(tail),
                      tuple(spatial))
    return geo, out, tuple(adj)


def _check(x, w, kw):
    cp.check_float(x, "X")
    cp.check_float(w, "filter", x.dtype)
    order, g = kw["order"], kw["group"]
    enforce_that(x.ndim == 4, "4 == input.dim()", blob="X", expected="a 4-D image batch",
                 found=dims(x.shape))
    enforce_cmp(w.ndim == 4, "filter.dim() == 4", w.ndim, 4, blob="filter")
    c_in = cp.channels_of(x.shape, order)
    geo, out, adj = _geometry(cp.spatial_of(x.shape, order), kw)
    enforce_that(w.shape[0] == c_in, "filter.dim32(0) == M",
                 "filter number must be equal to input channel number", blob="filter",
                 expected=f"{c_in} filters", found=w.shape[0])
    kh, kw_ = (w.shape[2], w.shape[3]) if order == "NCHW" else (w.shape[1], w.shape[2])
    enforce_that(kh == geo.kernel[0], "filter.dim32(2) == kernel_h()",
                 "filter height must be equal to kernel height", blob="filter",
                 expected=geo.kernel[0], found=kh)
    enforce_that(kw_ == geo.kernel[1], "filter.dim32(3) == kernel_w()",
                 "filter width must be equal to kernel width", blob="filter",
                 expected=geo.kernel[1], found=kw_)
    enforce_that(c_in % g == 0, "M % group_ == 0",
                 "The number of input channels is not divisible by group.", blob="X")
    m_per_group = w.shape[1] if order == "NCHW" else w.shape[3]
    return geo, out, adj, c_in, m_per_group * g, g


def _filter_cf(w, order):
    """(C_in, M/G, kh, kw)."""
    return w if order == "NCHW" else np.moveaxis(w, -1, 1)


def conv_transpose_forward(x, w, b, kw):
    geo, out, adj, c, m, g = _check(x, w, kw)
    order = kw["order"]
    if b is not None:
        cp.check_float(b, "bias", x.dtype)
        enforce_that(b.ndim == 1 and b.shape[0] == m, "bias.dim32(0) == C",
                     "bias dimension must be equal to output channel number", blob="bias",
                     expected=f"{m} values", found=dims(b.shape))
    xc = cp.to_channels_first(x, order)
    wc = _filter_cf(w, order)
    n = x.shape[0]
    cg, mg = c // g, m // g
    cols = np.empty((n, m) + geo.kernel + geo.out, x.dtype)
    for gi in range(g):
        part = np.tensordot(xc[:, gi * cg:(gi + 1) * cg], wc[gi * cg:(gi + 1) * cg],
                            axes=([1], [0]))  # (N, H, W, Mg, kh, kw)
        cols[:, gi * mg:(gi + 1) * mg] = np.moveaxis(part, [1, 2], [4, 5])
    full = tuple((geo.out[d] - 1) * geo.stride[d] + geo.kernel[d] + adj[d] for d in range(2))
    y = cp.scatter_windows(cols, (n, m) + full, geo)
    y = y[:, :, geo.pad_head[0]:geo.pad_head[0] + out[0], geo.pad_head[1]:geo.pad_head[1] + out[1]]
    if b is not None:
        y = y + b.reshape(1, m, 1, 1)
    return cp.from_channels_first(np.ascontiguousarray(y), order)


def _shape(x: TensorShape, w: TensorShape, b: TensorShape = UNKNOWN, **kw):
    if not (x.known and w.known) or len(x.dims) != 4:
        return (TensorShape(None, x.dtype),)
    order = kw["order"]
    _, out, _ = _geometry(cp.spatial_of(x.dims, order), kw)
    m = (w.dims[1] if order == "NCHW" else w.dims[3]) * kw["group"]
    return (TensorShape(cp.image_shape(x.dims[0], m, out, order), x.dtype),)


@register_cpu_operator(
    "ConvTranspose",
    inputs=["X", "filter", "bias"],
    outputs=["Y"],
    num_inputs=(2, 3),
    args=_ARGS,
    shape=_shape,
    example=Example(
        {"X": np.array([[[[2, 3], [4, 5]]]], np.float32),
         "filter": np.arange(2, 11, dtype=np.float32).reshape(1, 1, 3, 3),
         "bias": np.array([1.0], np.float32)},
        {"Y": np.array([[[[5, 13, 18, 13], [19, 50, 64, 42], [37, 92, 106, 66],
                          [33, 77, 86, 51]]]], np.float32)},
        {"kernel": 3}),
    doc="""Transposed 2-D convolution ("deconvolution"): every input pixel adds its
values times the filter into the output. X is (N, C, H, W) ("NCHW") or (N, H, W, C)
("NHWC"); `filter` is (C, M/group, kh, kw) or (C, kh, kw, M/group); `bias` has M
values. Output size per dimension: (in - 1) * stride + kernel + adj - pad_head -
pad_tail (legacy_pad VALID/SAME: no pads). Float32 or float64.""",
)
def conv_transpose(x, filter, bias=None, **kw):
    """Y = conv_transpose(X, filter) + bias."""
    return (conv_transpose_forward(x, filter, bias, kw),)


@register_gradient("ConvTranspose")
def conv_transpose_gradient_maker(g):
    """``ConvTransposeGradient([X, filter, dY])`` -> filter, bias (when present) and
    X gradients (``no_bias=1`` without a bias)."""
    ins = [g.I(0), g.I(1), g.GO(0)]
    if len(g.def_.input) == 3:
        return [g.op_def("ConvTransposeGradient", ins, [g.GI(1), g.GI(2), g.GI(0)])]
    return [g.op_def("ConvTransposeGradient", ins, [g.GI(1), g.GI(0)], no_bias=1)]


def _grad_shape(x: TensorShape, w: TensorShape, dy: TensorShape, *, no_bias, num_outputs, **kw):
    out = [w]
    if not no_bias:
        m = None if w.dims is None else ((w.dims[1] if kw["order"] == "NCHW" else w.dims[3])
                                         * kw["group"],)
        out.append(TensorShape(m, w.dtype))
    if len(out) < num_outputs:
        out.append(x)
    return tuple(out)


@register_cpu_operator(
    "ConvTransposeGradient",
    inputs=["X", "filter", "dY"],
    outputs=["filter_grad", "bias_grad", "X_grad"],
    num_outputs=(1, 3),
    args=_ARGS + [Arg("no_bias", bool, False, doc="the forward op had no bias")],
    shape=_grad_shape,
    example=Example(
        {"X": np.array([[[[1, 2]]]], np.float32), "filter": np.ones((1, 1, 1, 1), np.float32),
         "dY": np.array([[[[3, 4]]]], np.float32)},
        {"filter_grad": np.array([[[[11.0]]]], np.float32),
         "bias_grad": np.array([7.0], np.float32),
         "X_grad": np.array([[[[3, 4]]]], np.float32)},
        {"kernel": 1}),
    doc="""Gradient of ConvTranspose: the filter's gradient, the bias's (unless
`no_bias`) and, with one more output, X's.""",
)
def conv_transpose_gradient(x, filter, dy, *, num_outputs, **kw):
    """dfilter, dbias, dX of a transposed convolution."""
    no_bias = kw.pop("no_bias")
    geo, out, adj, c, m, g = _check(x, filter, kw)
    order = kw["order"]
    cp.check_float(dy, "dY", x.dtype)
    want = cp.image_shape(x.shape[0], m, out, order)
    enforce_cmp(dy.shape == want, "dY.sizes() == Y.sizes()", dims(dy.shape), dims(want),
                blob="dY")
    dyc = cp.to_channels_first(dy, order)
    full = tuple((geo.out[d] - 1) * geo.stride[d] + geo.kernel[d] + adj[d] for d in range(2))
    dyfull = np.zeros(dyc.shape[:2] + full, dy.dtype)
    dyfull[:, :, geo.pad_head[0]:geo.pad_head[0] + out[0],
           geo.pad_head[1]:geo.pad_head[1] + out[1]] = dyc
    cols = cp.windows(dyfull, geo)  # (N, M, kh, kw, H, W)
    xc = cp.to_channels_first(x, order)
    wc = _filter_cf(filter, order)
    cg, mg = c // g, m // g
    dw = np.empty_like(wc)
    want_dx = num_outputs == (2 if no_bias else 3)
    dx = np.empty_like(xc) if want_dx else None
    for gi in range(g):
        cs = cols[:, gi * mg:(gi + 1) * mg]
        dw[gi * cg:(gi + 1) * cg] = np.tensordot(xc[:, gi * cg:(gi + 1) * cg], cs,
                                                 axes=([0, 2, 3], [0, 4, 5]))
        if want_dx:
            dx[:, gi * cg:(gi + 1) * cg] = np.moveaxis(np.tensordot(
                cs, wc[gi * cg:(gi + 1) * cg], axes=([1, 2, 3], [1, 2, 3])), -1, 1)
    result = [dw if order == "NCHW" else np.ascontiguousarray(np.moveaxis(dw, 1, -1))]
    if not no_bias:
        result.append(dyc.sum(axis=(0, 2, 3), dtype=x.dtype))
    if want_dx:
        result.append(cp.from_channels_first(dx, order))
    return tuple(result)


gradient_not_implemented_yet("ConvTransposeGradient")
