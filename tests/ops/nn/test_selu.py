"""Selu and SeluGradient against loops over the elements, with the cases of Caffe2's
selu_op_test.py (three alpha/scale pairs, in-place forward and gradient)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError
from caffe2lite.workspace import Workspace

PAIRS = [(1.0, 2.0), (1.6732, 1.0507), (1.3, 1.1)]


def loop_selu(x, alpha, scale):
    out = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        v = float(x[idx])
        out[idx] = scale * (v if v > 0 else alpha * math.exp(v) - alpha)
    return [out]


def fix0(x):
    x = x + 0.02 * np.sign(x)
    x[x == 0.0] += 0.02
    return x


@pytest.mark.parametrize("alpha,scale", PAIRS)
def test_forward_and_gradient(alpha, scale):
    x = fix0(np.random.default_rng(4).standard_normal((3, 4)).astype(np.float32))
    op = CreateOperator("Selu", ["X"], ["Y"], alpha=alpha, scale=scale)
    y = testing.check_reference(op, [x], lambda x: loop_selu(x, alpha, scale),
                                rtol=1e-6, atol=1e-7)[0]
    testing.check_gradient(op, [x.astype(np.float64)], 0)
    dy = np.random.default_rng(5).standard_normal(x.shape).astype(np.float32)
    want = np.where(y > 0, scale * dy, dy * (y + scale * alpha))
    grad = CreateOperator("SeluGradient", ["Y", "dY"], ["dX"], alpha=alpha, scale=scale)
    testing.check_reference(grad, [y, dy], lambda *a: [want.astype(np.float32)],
                            rtol=1e-6, atol=1e-7)


def test_in_place_and_gradient_ops():
    x = np.array([-1.0, 0.5], np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("Selu", ["X"], ["X"], alpha=1.3, scale=1.1))
    np.testing.assert_allclose(ws.fetch_blob("X"), loop_selu(x, 1.3, 1.1)[0], rtol=1e-6)
    ws.feed_blob("Y", ws.fetch_blob("X"))
    ws.feed_blob("dX", np.ones(2, np.float32))
    ws.run_operator_once(CreateOperator("SeluGradient", ["Y", "dX"], ["dX"], alpha=1.3,
                                        scale=1.1))
    assert ws.fetch_blob("dX").shape == (2,)
    op = CreateOperator("Selu", ["X"], ["Y"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("SeluGradient", ["Y", "Y_grad"], ["X_grad"])]


def test_errors():
    x = np.ones(3, np.float32)
    testing.check_raises(CreateOperator("Selu", ["X"], ["Y"], scale=1.0), [x], ArgumentError,
                         "lambda_ > 1.0")
    testing.check_raises(CreateOperator("Selu", ["X"], ["Y"]), [x.astype(np.int32)],
                         DTypeError, "caller expects elements to be float")
    testing.check_raises(CreateOperator("SeluGradient", ["Y", "dY"], ["dX"]),
                         [x, np.ones(2, np.float32)], ShapeError, "dY.numel")
