"""ChannelShuffle and ChannelShuffleGradient (Caffe2 channel_shuffle_op.cc/.h): the
channel shuffle of ShuffleNet. The C = G * K channels, seen as a G x K matrix (G =
`group`), are transposed: output channel k * G + g is input channel g * K + k. The
gradient is the inverse shuffle (the same with G and K swapped).
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
from caffe2lite.schema.shapes import same_as_input

from .._dense import dims, enforce_cmp, enforce_that
from . import _convpool as cp

_ARGS = [
    Arg("group", int, 1, doc="number of groups G (C must be a multiple of G)",
        check=lambda g: g > 0, check_message="group must be positive",
        expected="a positive group count"),
    Arg("order", str, "NCHW", doc='"NCHW" or "NHWC"', check=lambda v: v in ("NCHW", "NHWC"),
        check_message="order_ != StorageOrder::UNKNOWN", expected='"NCHW" or "NHWC"'),
]


def shuffle(x: np.ndarray, blob: str, group: int, order: str, inverse: bool) -> np.ndarray:
    """The channels of ``x`` seen as a (G, C / G) matrix and transposed, or, for the
    inverse, seen as a (C / G, G) matrix and transposed."""
    cp.check_float(x, blob)
    enforce_that(x.ndim >= 2, f"{blob}.dim() >= 2", "ChannelShuffle needs a batch and a channel "
                 "axis", blob=blob, expected="a tensor of rank 2 or more", found=dims(x.shape))
    n = x.shape[0]
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    enforce_cmp(c % group == 0, "C % G == 0", c % group, 0,
                f"The {c} channels do not split into {group} groups", blob=blob)
    if c == 0:
        return x.copy()
    hxw = int(np.prod(cp.spatial_of(x.shape, order)))
    rows = c // group if inverse else group
    cols = c // rows
    if order == "NCHW":
        y = x.reshape(n, rows, cols, hxw).transpose(0, 2, 1, 3)
    else:
        y = x.reshape(n, hxw, rows, cols).transpose(0, 1, 3, 2)
    return np.ascontiguousarray(y).reshape(x.shape)


_SIX = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
_SHUFFLED = np.array([0, 3, 1, 4, 2, 5], np.float32).reshape(1, 6, 1)


@register_cpu_operator(
    "ChannelShuffle",
    inputs=["X"],
    outputs=["Y"],
    args=_ARGS,
    shape=same_as_input(0),
    example=Example({"X": _SIX}, {"Y": _SHUFFLED}, {"group": 2}),
    doc="""The channel shuffle of ShuffleNet: the C = G * K channels (G = `group`), seen
as a G x K matrix, are transposed, so output channel k * G + g is input channel
g * K + k.

X is (N, C, *spatial) in "NCHW" order or (N, *spatial, C) in "NHWC"; Y has its shape.
Float32 or float64.""",
)
def channel_shuffle(x, *, group, order):
    """Y: X's channels shuffled across the groups."""
    return (shuffle(x, "X", group, order, inverse=False),)


@register_gradient("ChannelShuffle")
def channel_shuffle_gradient_maker(g):
    """``ChannelShuffleGradient([dY]) -> [dX]``."""
    return [g.op_def("ChannelShuffleGradient", [g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "ChannelShuffleGradient",
    inputs=["dY"],
    outputs=["dX"],
    args=_ARGS,
    shape=same_as_input(0),
    example=Example({"dY": _SHUFFLED}, {"dX": _SIX}, {"group": 2}),
    doc="""Gradient of ChannelShuffle: the inverse shuffle, input channel g * K + k
taking output channel k * G + g's gradient (G = `group`, K = C / G).""",
)
def channel_shuffle_gradient(dy, *, group, order):
    """dX: dY's channels shuffled back."""
    return (shuffle(dy, "dY", group, order, inverse=True),)


gradient_not_implemented_yet("ChannelShuffleGradient")
