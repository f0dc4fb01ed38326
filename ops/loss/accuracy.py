"""Accuracy (Caffe2 accuracy_op.cc): the share of a batch whose label is among the
top_k scores."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import enforce_cmp, float_tensor


def _shape(predictions: TensorShape, labels: TensorShape, **_: object) -> tuple[TensorShape]:
    return (TensorShape((), np.dtype(np.float32)),)


@register_cpu_operator(
    "Accuracy",
    inputs=["predictions", "labels"],
    outputs=["accuracy"],
    args=[Arg("top_k", int, 1, doc="a prediction counts when the label is among the "
              "top_k scores", check=lambda k: k >= 1, check_message="top_k must be positive",
              expected="top_k >= 1")],
    shape=_shape,
    example=Example({"predictions": np.array([[0.2, 0.7, 0.1], [0.5, 0.5, 0.0],
                                              [0.1, 0.3, 0.6], [0.3, 0.3, 0.4]], np.float32),
                     "labels": np.array([1, 1, 0, 1], np.int32)},
                    {"accuracy": np.array(0.25, np.float32)}),
    doc="""The fraction of the N rows of predictions (float32, N x D scores) whose label
(int32, N, each in [0, D)) is among the top_k scores, as a float32 0-d tensor. Ties
go to the lower class index, as a stable sort by score would place them: a row
counts when fewer than top_k classes score higher than its label, or equal with a
lower index. An empty batch gives NaN (0 / 0, as in Caffe2).

Example: predictions=[[0.2, 0.7, 0.1], [0.5, 0.5, 0], [0.1, 0.3, 0.6], [0.3, 0.3,
0.4]], labels=[1, 1, 0, 1] -> accuracy=0.25 (row 0 is right; row 1 ties with class
0, which comes first; with top_k=2 rows 0 and 1 count: 0.5)""",
)
def accuracy(predictions, labels, *, top_k) -> tuple:
    """Rows whose label ranks within top_k (stable order), over N."""
    x = predictions
    float_tensor(x, "predictions", np.float32)
    enforce_cmp(x.ndim == 2, "X.ndim() == 2", x.ndim, 2, blob="predictions")
    check_dtype(labels, "labels", np.int32)
    enforce_cmp(labels.ndim == 1, "label.ndim() == 1", labels.ndim, 1, blob="labels")
    n, d = x.shape
    enforce_cmp(labels.shape[0] == n, "label.dim32(0) == N", labels.shape[0], n,
                blob="labels")
    bad = np.flatnonzero((labels < 0) | (labels >= d))
    if bad.size:  # Caffe2 read outside the row
        raise EnforceError(f"Accuracy: label {int(labels[bad[0]])} of row {int(bad[0])} is "
                           f"not a class of the {d} scores", blob="labels",
                           expected=f"0 <= label < {d}", found=int(labels[bad[0]]))
    mine = x[np.arange(n), labels][:, None]
    before = np.arange(d)[None, :] < labels[:, None]
    ahead = ((x > mine) | ((x == mine) & before)).sum(axis=1)
    correct = np.float32(int((ahead < top_k).sum()))
    return (np.array(correct / np.float32(n) if n else np.nan, np.float32),)


should_not_do_gradient("Accuracy")
