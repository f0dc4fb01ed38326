"""ConvRelu (Caffe2 conv_relu_op.cc): Conv followed by Relu in one op, with Conv's
inputs, arguments, shape and cost functions; Caffe2's CPU kernel ran a local Conv and
then max(0, y) over its output. Caffe2 registered no gradient for it.
"""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
)

from .conv import CONV_ARGS, _conv_cost, _conv_shape, conv_forward


@register_cpu_operator(
    "ConvRelu",
    inputs=["X", "filter", "bias"],
    outputs=["Y"],
    num_inputs=(2, 3),
    args=CONV_ARGS,
    shape=_conv_shape,
    cost=_conv_cost,
    example=Example(
        {"X": np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3),
         "filter": np.ones((1, 1, 2, 2), np.float32), "bias": np.array([-10.0], np.float32)},
        {"Y": np.array([[[[0, 0, 0, 0], [0, 0, 2, 0], [0, 10, 14, 3], [0, 3, 5, 0]]]],
                       np.float32)},
        {"kernel": 2, "pad": 1}),
    doc="""Y = max(0, Conv(X, filter, bias)): the convolution of Conv (same inputs,
arguments, orders, groups, pads, strides and dilations; see Conv), then a rectified
linear unit on every output. As Caffe2's std::max(0, y), a NaN output becomes 0 and
-0 becomes +0. Float32 or float64.""",
)
def conv_relu(x, filter, bias=None, **kw):
    """max(0, conv(X, filter) + bias)."""
    y = conv_forward(x, filter, bias, kw)
    return (np.where(y > 0, y, y.dtype.type(0)),)


# Caffe2 registered no gradient for ConvRelu (an inference fusion): asking for one is
# an error.
gradient_not_implemented_yet("ConvRelu")
