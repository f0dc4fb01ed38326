"""Adam: the dense Adam update of a parameter and its two moment estimates."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ._sgd_common import F32, adam_correction, first_lr, float_input, iteration, that


def _shape(param: TensorShape, m1: TensorShape, m2: TensorShape, grad: TensorShape,
           lr: TensorShape, it: TensorShape, *, num_outputs: int = 3
           ) -> tuple[TensorShape, ...]:
    return (param, m1, m2, grad)[:num_outputs]


@register_cpu_operator(
    "Adam",
    inputs=["param", "moment_1", "moment_2", "grad", "lr", "iter"],
    outputs=["output_param", "output_moment_1", "output_moment_2", "output_grad"],
    num_outputs=(3, 4),
    args=[Arg("beta1", float, 0.9), Arg("beta2", float, 0.999),
          Arg("epsilon", float, 1e-5)],
    allow_inplace=[(0, 0), (1, 1), (2, 2)],
    shape=_shape,
    example=Example(
        {"param": np.array([1.0, 2.0], F32), "moment_1": np.array([0.0, 0.0], F32),
         "moment_2": np.array([0.0, 0.0], F32), "grad": np.array([2.0, -2.0], F32),
         "lr": np.array([-0.5], F32), "iter": np.array([0], np.int64)},
        {"output_param": np.array([0.5, 2.5], F32),
         "output_moment_1": np.array([1.0, -1.0], F32),
         "output_moment_2": np.array([4.0, 4.0], F32)},
        {"beta1": 0.5, "beta2": 0.0, "epsilon": 0.0}),
    doc="""Computes the Adam update (https://arxiv.org/abs/1412.6980) element by element,
in float. Given (param, moment_1, moment_2, grad, lr, iter):

    t = iter + 1
    correction = sqrt(1 - beta2^t) / (1 - beta1^t)
    output_moment_1 = beta1 * moment_1 + (1 - beta1) * grad
    output_moment_2 = beta2 * moment_2 + (1 - beta2) * grad^2
    output_grad = correction * output_moment_1 / (sqrt(output_moment_2) + epsilon)
    output_param = param + lr * output_grad

lr is the learning rate (one element; optimizers pass a negative one) and iter the
int64 iteration count. output_grad is optional. param and the moments may be
updated in place. Defaults: beta1 0.9, beta2 0.999, epsilon 1e-5.""",
)
def adam(param: np.ndarray, moment_1: np.ndarray, moment_2: np.ndarray,
         grad: np.ndarray, lr: np.ndarray, it: np.ndarray, *, beta1: float,
         beta2: float, epsilon: float, num_outputs: int) -> tuple:
    """One dense Adam step."""
    t = iteration(it) + 1
    for x, blob in ((param, "param"), (moment_1, "moment_1"), (moment_2, "moment_2"),
                    (grad, "grad"), (lr, "lr")):
        float_input(x, blob)
    that(lr.size == 1, "Input(LR).numel() == 1", blob="lr", expected=1, found=lr.size)
    that(grad.size == param.size, "Input(GRAD).numel() == Input(PARAM).numel()",
         blob="grad", expected=param.size, found=grad.size)
    that(grad.size == moment_1.size, "Input(GRAD).numel() == Input(MOMENT_1).numel()",
         blob="moment_1", expected=grad.size, found=moment_1.size)
    that(grad.size == moment_2.size, "Input(GRAD).numel() == Input(MOMENT_2).numel()",
         blob="moment_2", expected=grad.size, found=moment_2.size)
    rate = first_lr(lr)
    correction = adam_correction(beta1, beta2, t)
    b1, b2, eps = F32(beta1), F32(beta2), F32(epsilon)
    g = grad.reshape(-1)
    m = moment_1.reshape(-1) * b1 + g * (F32(1) - b1)
    v = moment_2.reshape(-1) * b2 + g * g * (F32(1) - b2)
    w = param.reshape(-1)
    # C float arithmetic: a negative second moment gives NaN silently, as in Caffe2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if num_outputs == 4:
            ng = correction * m / (np.sqrt(v) + eps)
            new_w = w + rate * ng
        else:
            new_w = w + rate * correction * m / (np.sqrt(v) + eps)
    out = [new_w.reshape(param.shape), m.reshape(moment_1.shape),
           v.reshape(moment_2.shape)]
    if num_outputs == 4:
        out.append(ng.reshape(grad.shape))
    return tuple(out)


should_not_do_gradient("Adam")
