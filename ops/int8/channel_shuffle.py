"""Int8ChannelShuffle: ShuffleNet's channel shuffle of an NHWC Int8 tensor."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)
from caffe2lite.schema.shapes import TensorShape

from .._dense import dims
from ..vision import _convpool as cp
from ._q8 import Y_ARGS, int8_input
from ._same_q import same_quantisation

NHWC_ONLY = "Int8ChannelShuffleOp only supports NHWC order"

ARGS = [a for a in cp.CONV_POOL_ARGS if a.name != "order"] + [
    Arg(
        "order",
        str,
        "NCHW",
        doc='must be "NHWC"',
        check=lambda v: v == "NHWC",
        check_message=NHWC_ONLY,
        expected='"NHWC"',
    ),
    Arg(
        "group",
        int,
        1,
        doc="number of channel groups",
        check=lambda g: g >= 1,
        check_message="group must be positive",
        expected="a positive group",
    ),
    *Y_ARGS,
]


def _shape(x: TensorShape, **kwargs) -> tuple[TensorShape]:
    return (TensorShape(x.dims, np.dtype(np.uint8)),)


@register_cpu_operator(
    "Int8ChannelShuffle",
    inputs=["X"],
    outputs=["Y"],
    args=ARGS,
    shape=_shape,
    example=Example(
        {"X": Int8Tensor(np.arange(6, dtype=np.uint8).reshape(1, 1, 1, 6), 1.0, 0)},
        {
            "Y": Int8Tensor(
                np.array([0, 3, 1, 4, 2, 5], np.uint8).reshape(1, 1, 1, 6), 1.0, 0
            )
        },
        {"group": 2, "order": "NHWC", "Y_scale": 1.0, "Y_zero_point": 0},
    ),
    doc="""Channel shuffle of an NHWC uint8 Int8 tensor (QNNPACK's): the C = G * K
channels of each pixel, seen as a (G, K) matrix, are transposed, so output channel
k * G + g is input channel g * K + k. Only order "NHWC" ("Int8ChannelShuffleOp only
supports NHWC order"); C must be divisible by `group`. Y keeps X's scale and zero
point, which Y_scale and Y_zero_point must equal.

Example: X with channels [0, 1, 2, 3, 4, 5] and group=2 -> Y channels
[0, 3, 1, 4, 2, 5]""",
)
def int8_channel_shuffle(x, **kw) -> tuple:
    if kw["order"] != "NHWC":
        raise ArgumentError(
            NHWC_ONLY, arg="order", expected='"NHWC"', found=kw["order"]
        )
    q = int8_input(x, "X")
    same_quantisation(q, kw["Y_scale"], kw["Y_zero_point"])
    if q.data.ndim != 4:
        raise ShapeError(
            "Int8ChannelShuffle needs an NHWC tensor of rank 4",
            blob="X",
            expected="rank 4",
            found=dims(q.data.shape),
        )
    c, g = q.data.shape[3], kw["group"]
    if c % g:
        raise EnforceError(
            "C % G == 0. ", blob="X", expected=f"a multiple of {g} channels", found=c
        )
    y = q.data.reshape(-1, g, c // g).transpose(0, 2, 1).reshape(q.data.shape)
    return (Int8Tensor(np.ascontiguousarray(y), q.scale, q.zero_point),)


gradient_not_implemented_yet("Int8ChannelShuffle")
