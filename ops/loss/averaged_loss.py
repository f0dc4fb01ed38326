"""AveragedLoss (the mean of all elements, as a 0-d tensor) and its gradient op
AveragedLossGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import TensorShape, same_as_input
from .._dense import enforce_cmp, float_tensor


def _scalar_shape(x: TensorShape) -> tuple[TensorShape]:
    """A 0-d tensor of the input's type (Caffe2 stated FLOAT: it had float only)."""
    return (TensorShape((), x.dtype),)


@register_cpu_operator(
    "AveragedLoss",
    inputs=["input"],
    outputs=["output"],
    shape=_scalar_shape,
    example=Example(
        {"input": np.array([8, 10, 12], np.float32)},
        {"output": np.array(10, np.float32)},
    ),
    doc="""The average of all elements of ``input`` (float32 or float64) as a 0-d
tensor of the same type; an empty input gives 0.

Example: input=[8, 10, 12] -> output=10""",
)
def averaged_loss(x: np.ndarray) -> tuple:
    """sum(X) / X.size (just the sum, 0, when X is empty)."""
    dtype = float_tensor(x, "input")
    total = np.add.reduce(x, axis=None, dtype=dtype)  # np.sum without its Python layer
    if x.size:
        total = total * (dtype.type(1) / dtype.type(x.size))
    return (np.asarray(total, dtype=dtype),)


@register_gradient("AveragedLoss")
def averaged_loss_gradient_maker(g):
    """``AveragedLossGradient([input, output_grad]) -> [input_grad]``."""
    return [g.op_def("AveragedLossGradient", [g.I(0), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "AveragedLossGradient",
    inputs=["input", "output_grad"],
    outputs=["input_grad"],
    shape=same_as_input(0),
    example=Example(
        {
            "input": np.array([8, 10, 12, 14], np.float32),
            "output_grad": np.array(2, np.float32),
        },
        {"input_grad": np.array([0.5, 0.5, 0.5, 0.5], np.float32)},
    ),
    doc="""Gradient of AveragedLoss: a tensor of the input's shape filled with
output_grad / input.size (output_grad holds one value).

Example: input=[8, 10, 12, 14], output_grad=2 -> input_grad=[0.5, 0.5, 0.5, 0.5]""",
)
def averaged_loss_gradient(x: np.ndarray, dy: np.ndarray) -> tuple:
    """Fill X's shape with dY * (1 / N)."""
    dtype = float_tensor(x, "input")
    float_tensor(dy, "output_grad", dtype)
    enforce_cmp(dy.size == 1, "sum_grad.numel() == 1", dy.size, 1, blob="output_grad")
    value = float(dy.reshape(-1)[0]) * (1.0 / x.size) if x.size else 0.0
    out = np.empty(x.shape, dtype=dtype)  # np.full without its Python layer
    out.fill(value)
    return (out,)


gradient_not_implemented_yet("AveragedLossGradient")
