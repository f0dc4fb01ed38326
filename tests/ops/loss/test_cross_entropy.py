from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError


def naive_cross_entropy(x, label):
    n = x.shape[0] if x.ndim > 1 else 1
    xf, lf = x.reshape(-1).tolist(), label.reshape(-1).tolist()
    d = len(xf) // n if n else 0
    return [np.array([-sum(lf[i * d + j] * math.log(max(xf[i * d + j], 1e-20)) for j in range(d))
                      for i in range(n)], x.dtype)]


def naive_gradient(x, label, dy):
    n = x.shape[0] if x.ndim > 1 else 1
    xf, lf = x.reshape(-1).tolist(), label.reshape(-1).tolist()
    d = len(xf) // n if n else 0
    out = [-lf[i * d + j] / max(xf[i * d + j], 1e-20) * dy[i] for i in range(n) for j in range(d)]
    return [np.array(out, x.dtype).reshape(x.shape)]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 4), d=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(n, d, dtype, seed):
    # cross_entropy_ops_test.py: test_cross_entropy (soft labels, softmax-like X)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.01, 1, (n, d)).astype(dtype)
    label = rng.uniform(0, 1, (n, d)).astype(dtype)
    op = CreateOperator("CrossEntropy", ["X", "label"], ["Y"])
    y = testing.check_reference(op, [x, label], naive_cross_entropy, atol=1e-4)[0]
    dy = rng.standard_normal(y.shape).astype(dtype)
    grad = CreateOperator("CrossEntropyGradient", ["X", "label", "dY"], ["dX"])
    testing.check_reference(grad, [x, label, dy], naive_gradient, atol=1e-4, rtol=1e-4)


def test_vector_x_zero_probabilities_and_one_column_labels():
    op = CreateOperator("CrossEntropy", ["X", "label"], ["Y"])
    # a vector is one row: the label must then be one row too (N = 1, D = 1 here)
    testing.check_reference(op, [np.array([0.5]), np.array([1.0])],
                            lambda *v: [np.array([math.log(2)])])
    testing.check_reference(op, [np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]])],
                            lambda *v: [np.array([-math.log(1e-20)])])
    testing.check_reference(op, [np.array([[0.25], [0.5]]), np.array([1.0, 0.5])],
                            lambda *v: [np.array([math.log(4), 0.5 * math.log(2)])])


def test_errors():
    op = CreateOperator("CrossEntropy", ["X", "label"], ["Y"])
    x = np.full((2, 3), 0.5, np.float32)
    testing.check_raises(op, [x, np.full((2, 4), 0.5, np.float32)], ShapeError,
                         re.escape("(label.dim() == 1) || "
                                   "(label.dim() == 2 && label.dim32(1) == D)"))
    testing.check_raises(op, [x, np.full((3, 3), 0.5, np.float32)], ShapeError,
                         re.escape("label.dim32(0) == N. 3 vs 2"))
    testing.check_raises(op, [x, np.full(2, 0.5, np.float32)], ShapeError,
                         re.escape("label.numel() == N * D. 2 vs 6"))
    testing.check_raises(op, [x, np.full((2, 3), 1.5, np.float32)], EnforceError,
                         re.escape("Soft label seems incorrect: label value should be a probability "
                                   "between 0 and 1.0. You may be using the wrong cross entropy "
                                   "operator; use LabelCrossEntropy if the labels are integers "
                                   "whose values are at most the number of classes, 3."))
    testing.check_raises(op, [x, np.full((2, 3), 0.5)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    grad = CreateOperator("CrossEntropyGradient", ["X", "label", "dY"], ["dX"])
    testing.check_raises(grad, [x, x, np.ones((2, 1), np.float32)], ShapeError,
                         re.escape("dY.dim() == 1. 2 vs 1"))
    testing.check_raises(grad, [x, x, np.ones(3, np.float32)], ShapeError,
                         re.escape("dY.dim32(0) == N. 3 vs 2"))


def test_numeric_gradient():
    rng = np.random.default_rng(1)
    x, label = rng.uniform(0.2, 1, (3, 4)), rng.uniform(0, 1, (3, 4))
    testing.check_gradient(CreateOperator("CrossEntropy", ["X", "label"], ["Y"]), [x, label], [0])


def test_gradient_ops_list():
    op = CreateOperator("CrossEntropy", ["X", "label"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("CrossEntropyGradient", ["X", "label", "Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
