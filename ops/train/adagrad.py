"""Adagrad: the dense AdaGrad update of a parameter and its squared-gradient history."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import Cost, TensorShape

from ._sgd_common import F32, eq, first_lr, float_input, fma32, itemsize, numel_of


def _shape(param: TensorShape, moment: TensorShape, grad: TensorShape, lr: TensorShape,
           *, num_outputs: int = 2) -> tuple[TensorShape, ...]:
    return (param, moment, grad, grad)[:num_outputs]


def _cost(param: TensorShape, moment: TensorShape, grad: TensorShape, lr: TensorShape,
          *, outputs: Sequence[TensorShape]) -> Cost:
    """Caffe2's CostInferenceForAdagrad, its arithmetic kept as it was (the moment
    counts one element in bytes_written)."""
    n = numel_of(grad)
    written = n * itemsize(param) + itemsize(moment)
    if len(outputs) == 3:
        written += n * itemsize(lr)
    elif len(outputs) == 4:
        written += n * (itemsize(lr) + itemsize(param))
    return Cost(flops=10 * n, bytes_read=written + n * (itemsize(grad) + itemsize(lr)),
                bytes_written=written)


@register_cpu_operator(
    "Adagrad",
    inputs=["param", "moment", "grad", "lr"],
    outputs=["output_param", "output_moment", "output_effective_lr", "output_update"],
    num_outputs=(2, 4),
    args=[Arg("epsilon", float, 1e-5), Arg("decay", float, 1.0),
          Arg("weight_decay", float, 0.0)],
    allow_inplace=[(0, 0), (1, 1)],
    shape=_shape,
    cost=_cost,
    example=Example(
        {"param": np.array([1.0, 2.0], F32), "moment": np.array([0.0, 1.0], F32),
         "grad": np.array([3.0, 0.0], F32), "lr": np.array([-0.5], F32)},
        {"output_param": np.array([0.5, 2.0], F32),
         "output_moment": np.array([9.0, 1.0], F32)},
        {"epsilon": 0.0}),
    doc="""Computes the AdaGrad update for a gradient and its accumulated history, element
by element, in float:

    g = grad + weight_decay * param
    output_moment = decay * moment + g * g
    effective_lr = lr / (sqrt(output_moment) + epsilon)
    output_update = effective_lr * g
    output_param = param + output_update

lr is the learning rate (its first element; optimizers pass a negative one). The two
optional outputs are effective_lr and the update. param, moment and grad must have
the same number of elements; param and moment may be updated in place. Defaults:
epsilon 1e-5, decay 1, weight_decay 0.""",
)
def adagrad(param: np.ndarray, moment: np.ndarray, grad: np.ndarray, lr: np.ndarray, *,
            epsilon: float, decay: float, weight_decay: float,
            num_outputs: int) -> tuple:
    """One dense AdaGrad step."""
    for x, blob in ((param, "param"), (moment, "moment"), (grad, "grad")):
        float_input(x, blob)
    eq(grad.size, moment.size, "Input(GRAD).numel() == Input(MOMENT_1).numel()",
       f"PARAM size: {param.size}, GRAD size: {grad.size}, MOMENT_1 size: {moment.size}, "
       f"LR size: {getattr(lr, 'size', 0)}", blob="moment")
    eq(grad.size, param.size, "Input(GRAD).numel() == Input(PARAM).numel()", blob="grad")
    rate = first_lr(lr)
    g = grad.reshape(-1)
    w = param.reshape(-1)
    if weight_decay != 0.0:
        g = fma32(weight_decay, w, g)
    h = F32(decay) * moment.reshape(-1) + g * g
    # C float arithmetic: a negative moment gives NaN silently, as in Caffe2
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        step = rate / (np.sqrt(h) + F32(epsilon))
        if num_outputs == 4:
            update = step * g
            new_w = w + update
        elif num_outputs == 3:
            new_w = w + step * g
        else:
            new_w = w + rate * g / (np.sqrt(h) + F32(epsilon))
    out = [new_w.reshape(param.shape), h.reshape(moment.shape)]
    if num_outputs >= 3:
        out.append(step.reshape(grad.shape))
    if num_outputs == 4:
        out.append(update.reshape(grad.shape))
    return tuple(out)


should_not_do_gradient("Adagrad")
