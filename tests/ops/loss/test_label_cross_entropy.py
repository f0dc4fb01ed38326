from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError


def naive_label_xent(x, label):
    n = x.shape[0] if x.ndim > 1 else 1
    d = x.size // n if n else 0
    xf = x.reshape(-1).tolist()
    return [np.array([-math.log(max(xf[i * d + int(label.reshape(-1)[i])], 1e-20))
                      for i in range(n)], x.dtype)]


def naive_gradient(x, label, dy):
    n = x.shape[0] if x.ndim > 1 else 1
    d = x.size // n if n else 0
    xf = x.reshape(-1).tolist()
    out = [0.0] * x.size
    for i in range(n):
        k = i * d + int(label.reshape(-1)[i])
        out[k] = -dy[i] / max(xf[k], 1e-20)
    return [np.array(out, x.dtype).reshape(x.shape)]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 4), d=st.integers(1, 5), column=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(n, d, column, dtype, seed):
    # cross_entropy_ops_test.py / operator docs: LabelCrossEntropy after a softmax
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.01, 1, (n, d)).astype(dtype)
    label = rng.integers(0, d, n).astype(np.int32)
    if column:
        label = label.reshape(n, 1)
    op = CreateOperator("LabelCrossEntropy", ["X", "label"], ["Y"])
    y = testing.check_reference(op, [x, label], naive_label_xent, atol=1e-5)[0]
    dy = rng.standard_normal(y.shape).astype(dtype)
    grad = CreateOperator("LabelCrossEntropyGradient", ["X", "label", "dY"], ["dX"])
    testing.check_reference(grad, [x, label, dy], naive_gradient, rtol=1e-4)


def test_vector_and_zero_probability():
    op = CreateOperator("LabelCrossEntropy", ["X", "label"], ["Y"])
    testing.check_reference(op, [np.array([0.25, 0.75]), np.array([1], np.int32)],
                            lambda *v: [np.array([-math.log(0.75)])])
    testing.check_reference(op, [np.array([[0.0, 1.0]]), np.array([0], np.int32)],
                            lambda *v: [np.array([-math.log(1e-20)])])


def test_errors():
    op = CreateOperator("LabelCrossEntropy", ["X", "label"], ["Y"])
    x = np.full((2, 3), 0.5, np.float32)
    testing.check_raises(op, [x, np.array([0, 3], np.int32)], EnforceError,
                         re.escape("Label seems to be outside of supported range. Supported labels "
                                   "are in range [0,3)"))
    testing.check_raises(op, [x, np.array([-1, 0], np.int32)], EnforceError,
                         "outside of supported range")
    testing.check_raises(op, [x, np.array([0, 1], np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    testing.check_raises(op, [x, np.zeros((2, 2), np.int32)], ShapeError,
                         re.escape("(label.dim() == 1) || "
                                   "(label.dim() == 2 && label.dim32(1) == 1)"))
    testing.check_raises(op, [x, np.zeros(3, np.int32)], ShapeError,
                         re.escape("label.dim32(0) == N. 3 vs 2"))
    grad = CreateOperator("LabelCrossEntropyGradient", ["X", "label", "dY"], ["dX"])
    testing.check_raises(grad, [x, np.array([0, 5], np.int32), np.ones(2, np.float32)],
                         EnforceError, "outside of supported range")
    testing.check_raises(grad, [x, np.array([0, 1], np.int32), np.ones(3, np.float32)],
                         ShapeError, re.escape("dY.dim32(0) == N. 3 vs 2"))


def test_numeric_gradient():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.2, 1, (4, 3))
    label = np.array([0, 2, 1, 2], np.int32)
    testing.check_gradient(CreateOperator("LabelCrossEntropy", ["X", "label"], ["Y"]), [x, label],
                           [0])


def test_gradient_ops_list():
    op = CreateOperator("LabelCrossEntropy", ["X", "label"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("LabelCrossEntropyGradient", ["X", "label", "Y_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
