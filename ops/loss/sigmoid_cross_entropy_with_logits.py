"""SigmoidCrossEntropyWithLogits (the mean over the last dimension of the sigmoid
cross entropy of logits against targets) and its gradient op."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import ArgumentError
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import TensorShape, same_as_input
from .._dense import dims, enforce_cmp, enforce_that, float_tensor, size_to

_ARGS = [
    Arg(
        "log_D_trick",
        bool,
        False,
        doc="use the log-D trick (Goodfellow et al. 2014) against early vanishing gradients",
    ),
    Arg(
        "unjoined_lr_loss",
        bool,
        False,
        doc="unjoined-data loss: negatives may later turn out positive",
    ),
]


def _xent_shape(logits: TensorShape, targets: TensorShape) -> tuple[TensorShape]:
    """logits' shape without its last dimension (Caffe2 stated (N,), the 2-D case)."""
    dims = None if logits.dims is None else tuple(logits.dims[:-1])
    return (TensorShape(dims, logits.dtype),)


def _softplus_parts(lgt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lgt >= 0 as 0/1, log(1 + exp(-|lgt|))): the stable pieces of every formula.

    -|lgt| is computed as Caffe2 wrote it, lgt - 2·lgt·pos (a -inf logit gives NaN
    there, as it did in Caffe2), in one temporary."""
    pos = (lgt >= 0).astype(lgt.dtype)
    if not lgt.ndim:  # numpy gives scalars, not arrays, for 0-d operands
        return pos, np.log1p(np.exp(lgt - 2 * lgt * pos))
    soft = np.multiply(lgt, 2)
    soft *= pos
    np.subtract(lgt, soft, out=soft)
    np.exp(soft, out=soft)
    np.log1p(soft, out=soft)
    return pos, soft


@register_cpu_operator(
    "SigmoidCrossEntropyWithLogits",
    inputs=["logits", "targets"],
    outputs=["xentropy"],
    args=_ARGS,
    shape=_xent_shape,
    example=Example(
        {
            "logits": np.array([[0, 0]], np.float32),
            "targets": np.array([[1, 0]], np.float32),
        },
        {"xentropy": np.array([0.693147], np.float32)},
    ),
    doc="""Sigmoid cross entropy between ``logits`` and ``targets`` (same shape, float32
or float64), averaged over the last dimension: xentropy has shape logits.shape[:-1].
Per element, -(t·log σ(x) + (1 - t)·log(1 - σ(x))), computed stably; ``log_D_trick``
uses -(2t - 1)·log σ(x) instead and ``unjoined_lr_loss`` -(t·x - (1 - t)·log(1 +
exp(x))); the two cannot both be set.

Example: logits=[[0, 0]], targets=[[1, 0]] -> xentropy=[0.693147]""",
)
def sigmoid_cross_entropy_with_logits(
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    log_D_trick: bool,
    unjoined_lr_loss: bool,
) -> tuple:
    """-mean(per-element log-likelihood) over the last axis."""
    if log_D_trick and unjoined_lr_loss:
        raise ArgumentError(
            "log_D_trick_ and unjoined_lr_loss_ cannot be set as True simultaneously",
            arg="unjoined_lr_loss",
            expected="at most one of log_D_trick, unjoined_lr_loss",
            found="both",
        )
    dtype = float_tensor(logits, "logits")
    float_tensor(targets, "targets", dtype)
    if logits.shape != targets.shape:
        enforce_cmp(
            False,
            "logits.sizes() == targets.sizes()",
            dims(logits.shape),
            dims(targets.shape),
            blob="targets",
        )
    lgt, tgt = logits, targets
    pos, soft = _softplus_parts(lgt)
    if unjoined_lr_loss:
        f = lgt * tgt + (tgt - 1) * lgt * pos - (1 - tgt) * soft
    elif log_D_trick:
        f = (2 * tgt - 1) * (lgt - (lgt * pos + soft))
    else:  # lgt * (tgt - pos) - soft, in one temporary
        f = np.subtract(tgt, pos)
        f *= lgt
        f -= soft
    inner = logits.shape[-1] if logits.ndim else 1
    if inner == 1:  # one logit a row (a binary classifier): the sum and / 1 are exact
        out = -(f.reshape(logits.shape[:-1]) if logits.ndim else f)
    elif inner == 0:
        with np.errstate(invalid="ignore", divide="ignore"):  # an empty last dimension: NaN
            out = -np.add.reduce(f, axis=-1, dtype=dtype) / dtype.type(inner)
    else:
        out = -np.add.reduce(f, axis=-1, dtype=dtype) / dtype.type(inner)
    return (np.asarray(out, dtype=dtype),)


@register_gradient("SigmoidCrossEntropyWithLogits")
def sigmoid_cross_entropy_with_logits_gradient_maker(g):
    """``SigmoidCrossEntropyWithLogitsGradient([xentropy_grad, logits, targets]) ->
    [logits_grad]``."""
    return [
        g.op_def(
            "SigmoidCrossEntropyWithLogitsGradient",
            [g.GO(0), g.I(0), g.I(1)],
            [g.GI(0)],
        )
    ]


@register_cpu_operator(
    "SigmoidCrossEntropyWithLogitsGradient",
    inputs=["xentropy_grad", "logits", "targets"],
    outputs=["logits_grad"],
    args=_ARGS,
    shape=same_as_input(1),
    example=Example(
        {
            "xentropy_grad": np.array([1], np.float32),
            "logits": np.array([[0, 0]], np.float32),
            "targets": np.array([[1, 0]], np.float32),
        },
        {"logits_grad": np.array([[-0.25, 0.25]], np.float32)},
    ),
    doc="""Gradient of SigmoidCrossEntropyWithLogits: logits_grad = -g / D · (t - σ(x))
per element (D the last dimension, g the row's output gradient); with ``log_D_trick``
the factor is (2t - 1) / (1 + exp(x)), with ``unjoined_lr_loss`` t - (1 - t)·σ(x).

Example: xentropy_grad=[1], logits=[[0, 0]], targets=[[1, 0]] -> logits_grad=[[-0.25,
0.25]]""",
)
def sigmoid_cross_entropy_with_logits_gradient(
    g: np.ndarray,
    logits: np.ndarray,
    targets: np.ndarray,
    *,
    log_D_trick: bool,
    unjoined_lr_loss: bool,
) -> tuple:
    """-g / D times the derivative of the per-element log-likelihood."""
    dtype = float_tensor(logits, "logits")
    float_tensor(targets, "targets", dtype)
    float_tensor(g, "xentropy_grad", dtype)
    if logits.shape != targets.shape:
        enforce_that(
            False,
            "logits.sizes() == targets.sizes()",
            blob="targets",
            expected=f"logits' shape {dims(logits.shape)}",
            found=dims(targets.shape),
        )
    inner = logits.shape[-1] if logits.ndim else 1
    outer = size_to(logits.shape, logits.ndim - 1) if logits.ndim else 1
    if g.size != outer:
        enforce_that(
            False,
            "g.numel() == outer_size",
            blob="xentropy_grad",
            expected=f"{outer} values",
            found=dims(g.shape),
        )
    lgt, tgt = logits, targets
    with np.errstate(over="ignore"):
        if unjoined_lr_loss:
            d = tgt - (1 - tgt) / (1 + np.exp(-lgt))
        elif log_D_trick:
            d = (2 * tgt - 1) / (1 + np.exp(lgt))
        elif not lgt.ndim:
            d = tgt - 1 / (1 + np.exp(-lgt))
        else:  # tgt - 1 / (1 + exp(-lgt)), in one temporary
            d = np.negative(lgt)
            np.exp(d, out=d)
            d += 1
            np.divide(1, d, out=d)
            np.subtract(tgt, d, out=d)
    g = g.reshape(logits.shape[:-1] + (1,) if logits.ndim else ())
    if inner == 1:  # / 1 is exact
        factor = -g
    elif inner == 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = -g / dtype.type(inner)
    else:
        factor = -g / dtype.type(inner)
    return (np.asarray(factor * d, dtype=dtype),)


gradient_not_implemented_yet("SigmoidCrossEntropyWithLogitsGradient")
