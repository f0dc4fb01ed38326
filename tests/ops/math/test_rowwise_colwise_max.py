"""RowwiseMax / ColwiseMax and their gradient ops against loops, with the cases of
Caffe2's reduction_ops_test.py (test_rowwise_max / test_columnwise_max)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape

SIDES = [("RowwiseMax", True), ("ColwiseMax", False)]


def loop_max(x, rowwise):
    b, m, n = x.shape
    out = np.zeros((b, m if rowwise else n), x.dtype)
    for i in range(b):
        for k in range(out.shape[1]):
            vals = [x[i, k, j] for j in range(n)] if rowwise else [x[i, j, k] for j in range(m)]
            out[i, k] = max(vals)
    return out


def loop_grad(x, y, dy, rowwise):
    dx = np.zeros_like(x)
    for i, k, j in np.ndindex(*x.shape):
        r = k if rowwise else j
        if x[i, k, j] == y[i, r]:
            dx[i, k, j] = dy[i, r]
    return dx


@settings(max_examples=30, deadline=None)
@given(side=st.sampled_from(SIDES), b=st.integers(1, 3), m=st.integers(1, 3),
       n=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_match_loops(side, b, m, n, seed):
    op_type, rowwise = side
    x = np.random.default_rng(seed).integers(0, 4, (b, m, n)).astype(np.float32)  # ties
    y = testing.check_reference(CreateOperator(op_type, ["x"], ["y"]), [x],
                                lambda x: [loop_max(x, rowwise)], atol=0)[0]
    assert infer_op(CreateOperator(op_type, ["x"], ["y"]),
                    [TensorShape(x.shape, np.float32)]) == [TensorShape(y.shape, np.float32)]
    dy = np.random.default_rng(seed + 1).random(y.shape).astype(np.float32)
    grad = CreateOperator(op_type + "Gradient", ["X", "Y", "dY"], ["dX"])
    testing.check_reference(grad, [x, y, dy], lambda *a: [loop_grad(x, y, dy, rowwise)],
                            atol=0)


@pytest.mark.parametrize("op_type,rowwise", SIDES)
def test_gradient_ops_and_numeric(op_type, rowwise):
    op = CreateOperator(op_type, ["X"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        (op_type + "Gradient", ["X", "Y", "Y_grad"], ["X_grad"])]
    x = (np.random.default_rng(2).permutation(24).reshape(2, 3, 4) / 2).astype(np.float64)
    testing.check_gradient(op, [x], 0, eps=1e-2, atol=1e-4, rtol=1e-4)


def test_errors_and_empty():
    op = CreateOperator("RowwiseMax", ["X"], ["Y"])
    testing.check_raises(op, [np.ones((2, 3), np.float32)], EnforceError,
                         re.escape("X.dim() == 3"))
    testing.check_raises(op, [np.ones((1, 2, 3), np.int32)], DTypeError,
                         "caller expects elements to be float")
    testing.check_raises(op, [np.ones((2, 3, 0), np.float32)], EnforceError,
                         "empty row or column")
    testing.check_reference(op, [np.ones((0, 3, 2), np.float32)],
                            lambda x: [np.zeros((0, 3), np.float32)])
    grad = CreateOperator("ColwiseMaxGradient", ["X", "Y", "dY"], ["dX"])
    testing.check_raises(grad, [np.ones((1, 2, 3), np.float32), np.ones((1, 2), np.float32),
                                np.ones((1, 3), np.float32)], EnforceError,
                         "Y does not match X's reduced shape")
