"""MomentumSGDUpdate: a momentum SGD step that also updates the parameter."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ._sgd_common import F32, eq, first_lr, float_input, momentum_step


def _shape(grad: TensorShape, moment: TensorShape, lr: TensorShape, param: TensorShape
           ) -> tuple[TensorShape, TensorShape, TensorShape]:
    return (grad, moment, param)


@register_cpu_operator(
    "MomentumSGDUpdate",
    inputs=["grad", "moment", "lr", "param"],
    outputs=["output_grad", "output_moment", "output_param"],
    args=[Arg("momentum", float, 0.0), Arg("nesterov", int, 0)],
    allow_inplace=[(0, 0), (1, 1), (3, 2)],
    shape=_shape,
    example=Example(
        {"grad": np.array([1.0, -2.0], F32), "moment": np.array([4.0, 2.0], F32),
         "lr": np.array([0.5], F32), "param": np.array([10.0, 10.0], F32)},
        {"output_grad": np.array([2.5, 0.0], F32),
         "output_moment": np.array([2.5, 0.0], F32),
         "output_param": np.array([7.5, 10.0], F32)},
        {"momentum": 0.5}),
    doc="""Performs a momentum SGD update, in float. Given (grad, moment, lr, param) and the
arguments momentum and nesterov:

    if not nesterov:
        adjusted_gradient = lr * grad + momentum * moment
        param = param - adjusted_gradient
        returns (adjusted_gradient, adjusted_gradient, param)
    else:
        m_new = momentum * moment + lr * grad
        param = param - ((1 + momentum) * m_new - momentum * moment)
        returns ((1 + momentum) * m_new - momentum * moment, m_new, param)

The outputs are (grad, momentum, param); each may be updated in place. lr is
positive here (the step is subtracted). grad, moment and param must have the same
number of elements (Caffe2 did not check param's and wrote past a smaller one) and lr
one element. Defaults: momentum 0, nesterov 0.""",
)
def momentum_sgd_update(grad: np.ndarray, moment: np.ndarray, lr: np.ndarray,
                        param: np.ndarray, *, momentum: float, nesterov: int) -> tuple:
    """The adjusted gradient, the new momentum and the updated parameter."""
    float_input(grad, "grad")
    float_input(moment, "moment")
    float_input(lr, "lr")
    eq(lr.size, 1, "Input(LR).numel() == 1", blob="lr")
    eq(grad.size, moment.size, "Input(GRAD).numel() == Input(MOMENTUM).numel()",
       blob="moment")
    float_input(param, "param")
    eq(param.size, grad.size, "Input(PARAM).numel() == Input(GRAD).numel()", blob="param")
    adjusted, new_m = momentum_step(grad.reshape(-1), moment.reshape(-1), first_lr(lr),
                                    momentum, nesterov)
    new_param = param.reshape(-1) - adjusted
    return (adjusted.reshape(grad.shape), new_m.reshape(moment.shape),
            new_param.reshape(param.shape))


should_not_do_gradient("MomentumSGDUpdate")
