"""LabelCrossEntropy (minus the log of each row's probability at its integer label)
and its gradient op LabelCrossEntropyGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from .._dense import enforce_cmp, enforce_that, float_tensor, dims
from .cross_entropy import LOG_THRESHOLD, rows, rows_shape


def _check_label(x: np.ndarray, label: np.ndarray) -> tuple[int, int, np.ndarray]:
    """(N, D, labels as a flat int64 array), every label checked to be in [0, D)."""
    n, d = rows(x)
    check_dtype(label, "label", np.int32)
    if not (label.ndim == 1 or (label.ndim == 2 and label.shape[1] == 1)):
        enforce_that(False,
                     "(label.dim() == 1) || (label.dim() == 2 && label.dim32(1) == 1)",
                     blob="label", expected=f"{n} labels, shape ({n},) or ({n}, 1)",
                     found=dims(label.shape))
    enforce_cmp(label.shape[0] == n, "label.dim32(0) == N", label.shape[0], n, blob="label")
    lab = label.reshape(n).astype(np.int64)
    if n and not ((lab < d).all() and (lab >= 0).all()):
        bad = int(np.flatnonzero((lab >= d) | (lab < 0))[0])
        raise EnforceError(
            "Label seems to be outside of supported range. Supported labels are in range "
            f"[0,{d})", blob="label", expected=f"labels in [0, {d})",
            found=f"{int(lab[bad])} at index {bad}")
    return n, d, lab


@register_cpu_operator(
    "LabelCrossEntropy",
    inputs=["X", "label"],
    outputs=["Y"],
    shape=rows_shape,
    example=Example(
        {"X": np.array([[0.01, 0.05, 0.02, 0.02, 0.9], [0.03, 0.1, 0.42, 0.05, 0.4]], np.float32),
         "label": np.array([4, 2], np.int32)},
        {"Y": np.array([0.10536055, 0.8675006], np.float32)}, rtol=1e-5),
    doc="""Cross entropy against integer labels: Y[i] = -log(max(X[i, label[i]], 1e-20)).
X (float32 or float64) is N rows of D class probabilities (N = X.shape[0], D the product
of the other dimensions; a vector is one row); label is int32 of shape (N,) or (N, 1),
each in [0, D). Y has shape (N,).

Example: X=[[0.01, 0.05, 0.02, 0.02, 0.9], [0.03, 0.1, 0.42, 0.05, 0.4]], label=[4, 2]
-> Y=[0.10536055, 0.8675006]""",
)
def label_cross_entropy(x: np.ndarray, label: np.ndarray) -> tuple:
    """-log of each row's probability at its label."""
    dtype = float_tensor(x, "X")
    n, d, lab = _check_label(x, label)
    picked = x.reshape(n, d)[np.arange(n), lab]
    return (-np.log(np.maximum(picked, dtype.type(LOG_THRESHOLD))),)


@register_gradient("LabelCrossEntropy")
def label_cross_entropy_gradient_maker(g):
    """``LabelCrossEntropyGradient([X, label, Y_grad]) -> [X_grad]``."""
    return [g.op_def("LabelCrossEntropyGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "LabelCrossEntropyGradient",
    inputs=["X", "label", "dY"],
    outputs=["dX"],
    shape=lambda x, label, dy: (x,),
    example=Example({"X": np.array([[0.5, 0.25]], np.float32), "label": np.array([1], np.int32),
                     "dY": np.array([2], np.float32)},
                    {"dX": np.array([[0, -8]], np.float32)}),
    doc="""Gradient of LabelCrossEntropy: dX is 0 except dX[i, label[i]] =
-dY[i] / max(X[i, label[i]], 1e-20). dY has shape (N,). Labels outside [0, D) are an
error (Caffe2 wrote outside dX).

Example: X=[[0.5, 0.25]], label=[1], dY=[2] -> dX=[[0, -8]]""",
)
def label_cross_entropy_gradient(x: np.ndarray, label: np.ndarray, dy: np.ndarray) -> tuple:
    """-dY / max(X, 1e-20) at each row's label, 0 elsewhere."""
    dtype = float_tensor(x, "X")
    float_tensor(dy, "dY", dtype)
    n, d, lab = _check_label(x, label)
    enforce_cmp(dy.ndim == 1, "dY.dim() == 1", dy.ndim, 1, blob="dY")
    enforce_cmp(dy.shape[0] == n, "dY.dim32(0) == N", dy.shape[0], n, blob="dY")
    dx = np.zeros((n, d), dtype)
    at = (np.arange(n), lab)
    dx[at] = -dy / np.maximum(x.reshape(n, d)[at], dtype.type(LOG_THRESHOLD))
    return (dx.reshape(x.shape),)


gradient_not_implemented_yet("LabelCrossEntropyGradient")
