"""Ftrl: the FTRL-Proximal update of a parameter and its (n, z) accumulators."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from ._sgd_common import F32, eq, float_input

FTRL_ARGS = [Arg("alpha", float, 0.005), Arg("beta", float, 1.0),
             Arg("lambda1", float, 0.001), Arg("lambda2", float, 0.001)]


def alpha_inverse(alpha: float, alpha_input: Any, op_def: Any) -> F32:
    """1 / alpha, from the argument or from the optional alpha input (not both)."""
    if alpha_input is None:
        return F32(1.0 / float(F32(alpha)))
    if op_def is not None and any(a.name == "alpha" for a in op_def.arg):
        raise ArgumentError("Cannot specify alpha by both input and argument", arg="alpha",
                            expected="alpha as an argument or as an input",
                            found="both")
    float_input(alpha_input, "alpha")
    eq(alpha_input.size, 1, "Input(ALPHA).numel() == 1", "alpha should be real-valued",
       blob="alpha")
    return F32(1.0 / float(alpha_input.reshape(-1)[0]))


def ftrl_step(w: np.ndarray, n: np.ndarray, z: np.ndarray, g: np.ndarray, alpha_inv: F32,
              beta: float, lambda1: float, lambda2: float) -> tuple:
    """Caffe2's ftrl_compute, element-wise in float: ``(new_w, new_n, new_z)``."""
    new_n = n + g * g
    sqrt_new = np.sqrt(new_n)
    sigma = (sqrt_new - np.sqrt(n)) * alpha_inv
    new_z = z + g - sigma * w
    l1 = F32(lambda1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrunk = (l1 * np.sign(new_z) - new_z) / (
            (F32(beta) + sqrt_new) * alpha_inv + F32(lambda2))
    new_w = np.where(np.abs(new_z) > l1, shrunk, F32(0)).astype(F32, copy=False)
    return new_w, new_n, new_z


def _shape(var: TensorShape, n_z: TensorShape, grad: TensorShape, *alpha: TensorShape
           ) -> tuple[TensorShape, TensorShape]:
    return (var, n_z)


@register_cpu_operator(
    "Ftrl",
    inputs=["var", "n_z", "grad", "alpha"],
    outputs=["output_var", "output_n_z"],
    num_inputs=(3, 4),
    args=FTRL_ARGS,
    allow_inplace=[(0, 0), (1, 1)],
    shape=_shape,
    example=Example(
        {"var": np.array([0.0, 0.0], F32), "n_z": np.array([[0.0, 0.0], [0.0, 0.0]], F32),
         "grad": np.array([2.0, 0.5], F32)},
        {"output_var": np.array([-0.5, 0.0], F32),
         "output_n_z": np.array([[4.0, 2.0], [0.25, 0.5]], F32)},
        {"alpha": 1.0, "beta": 0.0, "lambda1": 1.0, "lambda2": 0.0}),
    doc="""Computes the FTRL-Proximal update (McMahan et al.) element by element, in float.
n_z holds, for each element of var, the pair (n, z) (shape var.shape + [2]). With
alpha from the argument or from the optional one-element input alpha (not both):

    n' = n + grad^2
    sigma = (sqrt(n') - sqrt(n)) / alpha
    z' = z + grad - sigma * var
    var' = (lambda1 * sign(z') - z') / ((beta + sqrt(n')) / alpha + lambda2)
           if |z'| > lambda1, else 0

var and n_z may be updated in place. Defaults: alpha 0.005, beta 1, lambda1 0.001,
lambda2 0.001. Giving alpha both ways is an error (Caffe2 refused it when the op was
created; here when it runs).""",
)
def ftrl(var: np.ndarray, n_z: np.ndarray, grad: np.ndarray, alpha_input: Any = None, *,
         alpha: float, beta: float, lambda1: float, lambda2: float,
         op_def: Any = None) -> tuple:
    """One dense FTRL step."""
    alpha_inv = alpha_inverse(alpha, alpha_input, op_def)
    for x, blob in ((var, "var"), (n_z, "n_z"), (grad, "grad")):
        float_input(x, blob)
    eq(grad.size, var.size, "Input(GRAD).numel() == Input(VAR).numel()", blob="grad")
    eq(grad.size * 2, n_z.size, "Input(GRAD).numel() * 2 == Input(N_Z).numel()",
       blob="n_z")
    pairs = n_z.reshape(-1, 2)
    w, n, z = ftrl_step(var.reshape(-1), pairs[:, 0], pairs[:, 1], grad.reshape(-1),
                        alpha_inv, beta, lambda1, lambda2)
    return (w.reshape(var.shape), np.stack([n, z], axis=1).reshape(n_z.shape))


should_not_do_gradient("Ftrl")
