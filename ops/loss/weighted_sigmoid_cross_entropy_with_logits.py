"""WeightedSigmoidCrossEntropyWithLogits (the row mean of weight times the sigmoid
cross entropy of logits against targets) and its gradient op."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import dims, enforce_that, float_tensor, size_to


def _check(logits: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> np.dtype:
    dtype = float_tensor(logits, "logits")
    float_tensor(targets, "targets", dtype)
    float_tensor(weights, "weights", dtype)
    if logits.shape != targets.shape:
        enforce_that(False, "logits.sizes() == targets.sizes()",
                     blob="targets", expected=f"logits' shape {dims(logits.shape)}",
                     found=dims(targets.shape))
    if weights.shape != targets.shape:
        enforce_that(False, "weights.sizes() == targets.sizes()",
                     blob="weights", expected=f"targets' shape {dims(targets.shape)}",
                     found=dims(weights.shape))
    return dtype


@register_cpu_operator(
    "WeightedSigmoidCrossEntropyWithLogits",
    inputs=["logits", "targets", "weights"],
    outputs=["xentropy"],
    shape=lambda lg, t, w: (TensorShape(None if lg.dims is None else tuple(lg.dims[:-1]),
                                        lg.dtype),),
    example=Example({"logits": np.array([[0, 0]], np.float32),
                     "targets": np.array([[1, 0]], np.float32),
                     "weights": np.array([[2, 0]], np.float32)},
                    {"xentropy": np.array([0.6931472], np.float32)}),
    doc="""Weighted sigmoid cross entropy between ``logits`` and ``targets`` (same shape as
``weights``, float32 or float64), averaged over the last dimension: xentropy has shape
logits.shape[:-1] and xentropy = -mean(w·(t·log σ(x) + (1 - t)·log(1 - σ(x)))), computed
stably. An empty last dimension gives NaN (0 / 0, as in Caffe2).

Example: logits=[[0, 0]], targets=[[1, 0]], weights=[[2, 0]] -> xentropy=[0.6931472]""",
)
def weighted_sigmoid_cross_entropy_with_logits(logits: np.ndarray, targets: np.ndarray,
                                               weights: np.ndarray) -> tuple:
    """-mean(weights · per-element log-likelihood) over the last axis."""
    dtype = _check(logits, targets, weights)
    pos = (logits >= 0).astype(dtype)
    f = logits * (targets - pos) - np.log1p(np.exp(logits - 2 * logits * pos))
    f = f * weights
    total = np.sum(f, axis=-1, dtype=dtype) if logits.ndim else f
    inner = logits.shape[-1] if logits.ndim else 1
    with np.errstate(invalid="ignore", divide="ignore"):
        out = -total / dtype.type(inner)
    return (np.asarray(out, dtype=dtype),)


@register_gradient("WeightedSigmoidCrossEntropyWithLogits")
def weighted_sigmoid_cross_entropy_with_logits_gradient_maker(g):
    """``WeightedSigmoidCrossEntropyWithLogitsGradient([xentropy_grad, logits, targets,
    weights]) -> [logits_grad]``."""
    return [g.op_def("WeightedSigmoidCrossEntropyWithLogitsGradient",
                     [g.GO(0), g.I(0), g.I(1), g.I(2)], [g.GI(0)])]


@register_cpu_operator(
    "WeightedSigmoidCrossEntropyWithLogitsGradient",
    inputs=["g", "logits", "targets", "weights"],
    outputs=["logits_grad"],
    shape=lambda g, lg, t, w: (lg,),
    example=Example({"g": np.array([1], np.float32), "logits": np.array([[0, 0]], np.float32),
                     "targets": np.array([[1, 0]], np.float32),
                     "weights": np.array([[2, 1]], np.float32)},
                    {"logits_grad": np.array([[-0.5, 0.25]], np.float32)}),
    doc="""Gradient of WeightedSigmoidCrossEntropyWithLogits: logits_grad =
-g / D · (t - σ(x))·w per element (D the last dimension, g the row's output gradient,
of logits.shape[:-1] values).

Example: g=[1], logits=[[0, 0]], targets=[[1, 0]], weights=[[2, 1]] ->
logits_grad=[[-0.5, 0.25]]""",
)
def weighted_sigmoid_cross_entropy_with_logits_gradient(
        g: np.ndarray, logits: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> tuple:
    """-g / D · (t - σ(x)) · w."""
    dtype = _check(logits, targets, weights)
    float_tensor(g, "g", dtype)
    inner = logits.shape[-1] if logits.ndim else 1
    outer = size_to(logits.shape, logits.ndim - 1) if logits.ndim else 1
    if g.size != outer:
        enforce_that(False, "g.numel() == outer_size", blob="g",
                     expected=f"{outer} values", found=dims(g.shape))
    with np.errstate(over="ignore"):
        d = targets - 1 / (1 + np.exp(-logits))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = -g.reshape(logits.shape[:-1] + (1,) if logits.ndim else ()) / dtype.type(inner)
    return (np.asarray(factor * d * weights, dtype=dtype),)


gradient_not_implemented_yet("WeightedSigmoidCrossEntropyWithLogitsGradient")
