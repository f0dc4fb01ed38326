"""AffineChannel and AffineChannelGradient (Caffe2 affine_channel_op.cc/.h): a separate
affine transformation of each channel, Y = X * scale[c] + bias[c] (SpatialBN folded
into a fixed transformation). With `is_learnable`, scale and bias get gradients too.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, SchemaError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import same_as_input

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

_ARGS = [
    Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"', check=lambda v: v in ("NCHW", "NHWC"),
        check_message="order_ != StorageOrder::UNKNOWN", expected='"NCHW" or "NHWC"'),
    Arg("is_learnable", bool, False, doc="scale and bias are parameters with gradients"),
]
_INPLACE_LEARNABLE = ("In-place affine_channel_op is not supported when is_learnable = true.")


def _channels(x: np.ndarray, blob: str, order: str) -> tuple[int, tuple[int, ...]]:
    """C, and the shape a per-channel vector broadcasts in."""
    cp.check_float(x, blob)
    enforce_that(x.ndim >= 2, f"{blob}.dim() >= 2", "AffineChannel needs a batch and a channel "
                 "axis", blob=blob, expected="a tensor of rank 2 or more", found=dims(x.shape))
    axis = 1 if order == "NCHW" else x.ndim - 1
    return x.shape[axis], tuple(x.shape[axis] if a == axis else 1 for a in range(x.ndim))


def _vector(v: np.ndarray, blob: str, c: int, dtype) -> None:
    cp.check_float(v, blob, dtype)
    enforce_cmp(v.size == c, f"{blob}.numel() == C", v.size, c, blob=blob)


@register_cpu_operator(
    "AffineChannel",
    inputs=["X", "scale", "bias"],
    outputs=["Y"],
    allow_inplace=[(0, 0)],
    args=_ARGS,
    shape=same_as_input(0),
    example=Example(
        {"X": np.array([[[1, 2], [3, 4]]], np.float32), "scale": np.array([2, -1], np.float32),
         "bias": np.array([0, 10], np.float32)},
        {"Y": np.array([[[2, 4], [7, 6]]], np.float32)}),
    doc="""Y = X * scale[c] + bias[c] for every element of channel c: a separate affine
transformation per channel (SpatialBN folded into a fixed transformation).

X is (N, C, *spatial) in "NCHW" order or (N, *spatial, C) in "NHWC"; scale and bias
have C values (Caffe2 read past shorter ones; checked here). Y may overwrite X, except
with `is_learnable` ("In-place affine_channel_op is not supported when is_learnable =
true."). Float32 or float64.""",
)
def affine_channel(x, scale, bias, *, order, is_learnable, op_def):
    """Y = X * scale + bias per channel."""
    if is_learnable and op_def.output[0] == op_def.input[0]:
        raise EnforceError(f"Y != &X. {_INPLACE_LEARNABLE}", blob="Y",
                           expected="an output other than X", found=op_def.output[0])
    c, bshape = _channels(x, "X", order)
    _vector(scale, "scale", c, x.dtype)
    _vector(bias, "bias", c, x.dtype)
    return ((x * scale.reshape(bshape) + bias.reshape(bshape)).astype(x.dtype),)


@register_gradient("AffineChannel")
def affine_channel_gradient_maker(g):
    """Learnable: ``AffineChannelGradient([dY, X, scale]) -> [dX, dscale, dbias]``;
    otherwise ``AffineChannelGradient([dY, scale]) -> [dX]``."""
    if g.arg("is_learnable", False):
        return [g.op_def("AffineChannelGradient", [g.GO(0), g.I(0), g.I(1)],
                         [g.GI(0), g.GI(1), g.GI(2)])]
    return [g.op_def("AffineChannelGradient", [g.GO(0), g.I(1)], [g.GI(0)])]


def _grad_shape(dy, x_or_scale, scale=None, *, num_outputs, **_):
    vec = x_or_scale if scale is None else scale
    return (dy, vec, vec)[:num_outputs]


@register_cpu_operator(
    "AffineChannelGradient",
    inputs=["dY", "X", "scale"],
    outputs=["dX", "dscale", "dbias"],
    num_inputs=(2, 3),
    num_outputs=(1, 3),
    allow_inplace=[(0, 0)],
    args=_ARGS,
    shape=_grad_shape,
    example=Example(
        {"dY": np.array([[[1, 1], [1, 2]]], np.float32),
         "X": np.array([[[1, 2], [3, 4]]], np.float32), "scale": np.array([2, -1], np.float32)},
        {"dX": np.array([[[2, 2], [-1, -2]]], np.float32),
         "dscale": np.array([3, 11], np.float32), "dbias": np.array([2, 3], np.float32)},
        {"is_learnable": 1}),
    doc="""Gradient of AffineChannel: dX = dY * scale per channel. With
`is_learnable` the inputs are dY, X, scale and the outputs dX, dscale = sum(dY * X)
and dbias = sum(dY) per channel; without it the inputs are dY, scale and the output
dX alone. dX may overwrite dY.""",
)
def affine_channel_gradient(dy, x_or_scale, scale=None, *, order, is_learnable, num_outputs):
    """dX (and dscale, dbias when learnable)."""
    want_in, want_out = (3, 3) if is_learnable else (2, 1)
    given_in = 2 if scale is None else 3
    if given_in != want_in or num_outputs != want_out:
        raise SchemaError(f"AffineChannelGradient with is_learnable={int(is_learnable)} takes "
                          f"{want_in} inputs and {want_out} outputs",
                          expected=f"{want_in} inputs, {want_out} outputs",
                          found=f"{given_in} inputs, {num_outputs} outputs")
    c, bshape = _channels(dy, "dY", order)
    if not is_learnable:
        # the second input is scale here (named X in the schema, for the learnable form)
        cp.check_float(x_or_scale, "X", dy.dtype)
        enforce_cmp(x_or_scale.size == c, "scale.numel() == C", x_or_scale.size, c, blob="X")
        return ((dy * x_or_scale.reshape(bshape)).astype(dy.dtype),)
    x = x_or_scale
    _vector(scale, "scale", c, dy.dtype)
    cp.check_float(x, "X", dy.dtype)
    enforce_cmp(x.shape == dy.shape, "X.sizes() == dY.sizes()", dims(x.shape), dims(dy.shape),
                blob="X")
    channel_axis = 1 if order == "NCHW" else dy.ndim - 1
    axes = tuple(a for a in range(dy.ndim) if a != channel_axis)
    dx = (dy * scale.reshape(bshape)).astype(dy.dtype)
    dscale = (dy * x).sum(axis=axes, dtype=dy.dtype).reshape(scale.shape)
    dbias = dy.sum(axis=axes, dtype=dy.dtype).reshape(scale.shape)
    return (dx, dscale, dbias)


gradient_not_implemented_yet("AffineChannelGradient")
