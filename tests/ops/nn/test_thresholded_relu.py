"""ThresholdedRelu and its gradient op against loops over the elements, with the cases
of Caffe2's thresholded_relu_op_test.py (default alpha, alpha in [1, 5], gradients)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.inference import op_cost
from caffe2lite.schema.shapes import Cost, TensorShape


def loop_forward(x, alpha):
    y = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        y[idx] = x[idx] if x[idx] > np.float32(alpha) else 0
    return [y]


@pytest.mark.parametrize("alpha", [None, 1.0, 2.5, 5.0, -0.5])
def test_forward_and_gradient(alpha):
    x = np.random.default_rng(2).uniform(-6, 6, (3, 5)).astype(np.float32)
    x = x + 0.02 * np.sign(x)
    kw = {} if alpha is None else {"alpha": alpha}
    a = 1.0 if alpha is None else alpha
    op = CreateOperator("ThresholdedRelu", ["X"], ["Y"], **kw)
    y = testing.check_reference(op, [x], lambda x: loop_forward(x, a), atol=0, rtol=0)[0]
    if a > 0:
        keep = np.abs(x - a) > 0.05  # away from the threshold's jump
        testing.check_gradient(op, [np.where(keep, x, a + 0.5).astype(np.float64)], 0)
    dy = np.random.default_rng(3).standard_normal(x.shape).astype(np.float32)
    grad = CreateOperator("ThresholdedReluGradient", ["Y", "dY"], ["dX"], **kw)
    testing.check_reference(grad, [y, dy], lambda *v: [dy * np.sign(y)], atol=0, rtol=0)


def test_gradient_ops_errors_and_cost():
    op = CreateOperator("ThresholdedRelu", ["X"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("ThresholdedReluGradient", ["Y", "Y_grad"], ["X_grad"])]
    testing.check_raises(op, [np.ones(2, np.int32)], DTypeError,
                         "caller expects elements to be float")
    grad = CreateOperator("ThresholdedReluGradient", ["Y", "dY"], ["dX"])
    testing.check_raises(grad, [np.ones(3, np.float32), np.ones(2, np.float32)],
                         ShapeError, "dY.numel")
    testing.check_reference(grad, [np.array([np.nan, 0.0], np.float32),
                                   np.array([1.0, 1.0], np.float32)],
                            lambda *v: [np.zeros(2, np.float32)])
    f4 = np.dtype(np.float32)
    assert op_cost(op, [TensorShape((2, 3), f4)]) == Cost(12, 24, 24, 0)
