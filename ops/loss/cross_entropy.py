"""CrossEntropy (cross entropy of probabilities X against soft labels of the same
shape, one value per row) and its gradient op CrossEntropyGradient."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import (
    gradient_not_implemented_yet,
    register_cpu_operator,
    register_gradient,
)
from caffe2lite.schema.shapes import TensorShape
from .._dense import dims, enforce_cmp, enforce_that, float_tensor

# Caffe2's kLOG_THRESHOLD(): probabilities are floored here before the log.
LOG_THRESHOLD = 1e-20


def rows(x: np.ndarray) -> tuple[int, int]:
    """(N, D) as Caffe2 read X: N = X.shape[0] and D the rest for 2-D and up; a vector
    is one row (N = 1, D = its length)."""
    enforce_that(x.ndim >= 1, "X.dim() >= 1", blob="X", expected="at least 1-D",
                 found=dims(x.shape))
    if x.ndim > 1:
        return x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64))
    return 1, x.shape[0]


def _check_label(x: np.ndarray, label: np.ndarray) -> tuple[int, int]:
    n, d = rows(x)
    if not (label.ndim == 1 or (label.ndim == 2 and label.shape[1] == d)):
        enforce_that(False,
                     "(label.dim() == 1) || (label.dim() == 2 && label.dim32(1) == D)",
                     blob="label", expected=f"({n}, {d}) soft labels", found=dims(label.shape))
    enforce_cmp(label.shape[0] == n, "label.dim32(0) == N", label.shape[0], n, blob="label")
    # Caffe2 read N * D labels whatever label's size (past its end for a 1-D label of
    # N values when D > 1): refuse that instead.
    enforce_cmp(label.size == n * d, "label.numel() == N * D", label.size, n * d, blob="label")
    return n, d


def rows_shape(x: TensorShape, *rest) -> tuple[TensorShape]:
    """(N,): one value per row of X (N = 1 for a vector)."""
    if x.dims is None:
        return (TensorShape(None, x.dtype),)
    return (TensorShape((x.dims[0] if len(x.dims) > 1 else 1,), x.dtype),)


@register_cpu_operator(
    "CrossEntropy",
    inputs=["X", "label"],
    outputs=["Y"],
    shape=rows_shape,
    example=Example(
        {"X": np.array([[0.01, 0.05, 0.02, 0.02, 0.9], [0.03, 0.1, 0.42, 0.05, 0.4]], np.float32),
         "label": np.array([[0, 0, 0, 0, 1], [0, 0, 1, 0, 0]], np.float32)},
        {"Y": np.array([0.10536055, 0.8675006], np.float32)}, rtol=1e-5),
    doc="""Cross entropy against soft labels: Y[i] = -sum_j label[i, j]·log(max(X[i, j],
1e-20)). X (float32 or float64) is N rows of D values (N = X.shape[0], D the product of
the other dimensions; a vector is one row); label has X's type and N·D values, shape
(N, D) or (N,) when D = 1, each a probability in [0, 1]. Y has shape (N,).

Example: X=[[0.01, 0.05, 0.02, 0.02, 0.9], [0.03, 0.1, 0.42, 0.05, 0.4]],
label=[[0, 0, 0, 0, 1], [0, 0, 1, 0, 0]] -> Y=[0.10536055, 0.8675006]""",
)
def cross_entropy(x: np.ndarray, label: np.ndarray) -> tuple:
    """-sum(label · log(max(X, 1e-20))) per row."""
    dtype = float_tensor(x, "X")
    float_tensor(label, "label", dtype)
    n, d = _check_label(x, label)
    lab = label.reshape(n, d)
    if lab.size and not ((lab <= 1).all() and (lab >= 0).all()):
        raise EnforceError(
            "Soft label seems incorrect: label value should be a probability between 0 and "
            "1.0. You may be using the wrong cross entropy operator; use LabelCrossEntropy if "
            f"the labels are integers whose values are at most the number of classes, {d}.",
            blob="label", expected="values in [0, 1]",
            found=f"{lab.min()} to {lab.max()}")
    logs = np.log(np.maximum(x.reshape(n, d), dtype.type(LOG_THRESHOLD)))
    return (-np.einsum("ij,ij->i", lab, logs),)


@register_gradient("CrossEntropy")
def cross_entropy_gradient_maker(g):
    """``CrossEntropyGradient([X, label, Y_grad]) -> [X_grad]``."""
    return [g.op_def("CrossEntropyGradient", [g.I(0), g.I(1), g.GO(0)], [g.GI(0)])]


@register_cpu_operator(
    "CrossEntropyGradient",
    inputs=["X", "label", "dY"],
    outputs=["dX"],
    shape=lambda x, label, dy: (x,),
    example=Example({"X": np.array([[0.5, 0.25]], np.float32),
                     "label": np.array([[0, 1]], np.float32), "dY": np.array([2], np.float32)},
                    {"dX": np.array([[0, -8]], np.float32)}),
    doc="""Gradient of CrossEntropy: dX[i, j] = -label[i, j] / max(X[i, j], 1e-20)·dY[i].
dY has shape (N,).

Example: X=[[0.5, 0.25]], label=[[0, 1]], dY=[2] -> dX=[[0, -8]]""",
)
def cross_entropy_gradient(x: np.ndarray, label: np.ndarray, dy: np.ndarray) -> tuple:
    """-label / max(X, 1e-20), scaled row-wise by -dY."""
    dtype = float_tensor(x, "X")
    float_tensor(label, "label", dtype)
    float_tensor(dy, "dY", dtype)
    n, d = _check_label(x, label)
    enforce_cmp(dy.ndim == 1, "dY.dim() == 1", dy.ndim, 1, blob="dY")
    enforce_cmp(dy.shape[0] == n, "dY.dim32(0) == N", dy.shape[0], n, blob="dY")
    floor = np.maximum(x.reshape(n, d), dtype.type(LOG_THRESHOLD))
    return ((label.reshape(n, d) / floor * -dy[:, None]).reshape(x.shape),)


gradient_not_implemented_yet("CrossEntropyGradient")
