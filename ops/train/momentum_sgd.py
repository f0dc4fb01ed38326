"""MomentumSGD: the momentum-adjusted gradient, without updating the parameter."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ._sgd_common import F32, first_lr, float_input, momentum_step, that


def _shape(grad: TensorShape, moment: TensorShape, lr: TensorShape
           ) -> tuple[TensorShape, TensorShape]:
    return (grad, moment)


@register_cpu_operator(
    "MomentumSGD",
    inputs=["grad", "moment", "lr"],
    outputs=["output_grad", "output_moment"],
    args=[Arg("momentum", float, 0.0), Arg("nesterov", int, 0)],
    allow_inplace=[(0, 0), (1, 1)],
    shape=_shape,
    example=Example(
        {"grad": np.array([1.0, -2.0], F32), "moment": np.array([4.0, 2.0], F32),
         "lr": np.array([0.5], F32)},
        {"output_grad": np.array([2.5, 0.0], F32),
         "output_moment": np.array([2.5, 0.0], F32)},
        {"momentum": 0.5}),
    doc="""Computes a momentum SGD step for a gradient and its momentum, in float. Given
(grad, moment, lr) and the arguments momentum and nesterov:

    if not nesterov:
        adjusted_gradient = lr * grad + momentum * moment
        returns (adjusted_gradient, adjusted_gradient)
    else:
        m_new = momentum * moment + lr * grad
        returns ((1 + momentum) * m_new - momentum * moment, m_new)

The outputs are (grad, momentum); the parameter is not updated (MomentumSGDUpdate
does that too). grad and moment must have the same number of elements and lr one
element; both may be updated in place. Defaults: momentum 0, nesterov 0.""",
)
def momentum_sgd(grad: np.ndarray, moment: np.ndarray, lr: np.ndarray, *,
                 momentum: float, nesterov: int) -> tuple:
    """The adjusted gradient and the new momentum."""
    float_input(grad, "grad")
    float_input(moment, "moment")
    float_input(lr, "lr")
    that(lr.size == 1, "Input(LR).numel() == 1", blob="lr", expected=1, found=lr.size)
    that(grad.size == moment.size, "Input(GRAD).numel() == Input(MOMENTUM).numel()",
         blob="moment", expected=grad.size, found=moment.size)
    adjusted, new_m = momentum_step(grad.reshape(-1), moment.reshape(-1), first_lr(lr),
                                    momentum, nesterov)
    return (adjusted.reshape(grad.shape), new_m.reshape(moment.shape))


should_not_do_gradient("MomentumSGD")
