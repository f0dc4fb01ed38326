"""SumElements, SumElementsInt, SumSqrElements and SumElementsGradient against loops,
with the cases of Caffe2's reduction_ops_test.py (test_elementwise_sum / _int_sum /
_sqrsum / _avg)."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape


def loop_sum(x, square=False, average=False):
    total = 0.0
    for v in x.reshape(-1):
        total += float(v) * float(v) if square else float(v)
    if average and x.size:
        total /= x.size
    return total


@pytest.mark.parametrize("n", [0, 1, 5, 8, 1000])
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sums_match_loops(n, average, dtype):
    x = np.random.default_rng(n).random(n).astype(dtype)
    for op_type, square in (("SumElements", False), ("SumSqrElements", True)):
        op = CreateOperator(op_type, ["X"], ["y"], average=average)
        want = [np.array(loop_sum(x, square, average), dtype)]
        got = testing.check_reference(op, [x.reshape(-1, 1) if n else x], lambda x, want=want: want,
                                      rtol=1e-5)
        assert got[0].shape == () and got[0].dtype == dtype
        assert infer_op(op, [TensorShape(("N",), dtype)]) == [TensorShape((), dtype)]


def test_sum_elements_int_wraps():
    op = CreateOperator("SumElementsInt", ["X"], ["y"])
    x = np.array([[2**31 - 1, 1], [5, -3]], np.int32)
    testing.check_reference(op, [x], lambda x: [np.array(-(2**31) + 2, np.int32)], atol=0)
    testing.check_reference(op, [np.zeros(0, np.int32)], lambda x: [np.array(0, np.int32)])
    assert infer_op(op, [TensorShape((3,), np.int32)]) == [TensorShape((), np.int32)]
    testing.check_raises(op, [np.ones(2, np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})


def test_type_errors():
    testing.check_raises(CreateOperator("SumElements", ["X"], ["y"]), [np.ones(2, np.int32)],
                         DTypeError, "caller expects elements to be float")
    testing.check_raises(CreateOperator("SumSqrElements", ["X"], ["y"]),
                         [np.ones(2, np.int32)], DTypeError, "Unsupported type of tensor: int")


@pytest.mark.parametrize("average", [False, True])
def test_gradient(average):
    op = CreateOperator("SumElements", ["X"], ["y"], average=average)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("SumElementsGradient", ["X", "y_grad"], ["X_grad"])]
    assert str(grads["X"]) == "X_grad"
    x = np.random.default_rng(1).random((2, 3))
    testing.check_gradient(op, [x], 0)
    grad = CreateOperator("SumElementsGradient", ["X", "g"], ["dX"], average=average)
    want = np.full((2, 3), 6.0 / 6 if average else 6.0, np.float32)
    testing.check_reference(grad, [x.astype(np.float32), np.array(6, np.float32)],
                            lambda *a: [want], atol=0)
    testing.check_reference(grad, [np.zeros((0, 2), np.float32), np.array(1, np.float32)],
                            lambda *a: [np.zeros((0, 2), np.float32)])
    testing.check_raises(grad, [x.astype(np.float32), np.ones(2, np.float32)], EnforceError,
                         "sum_grad must hold one element")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([CreateOperator("SumSqrElements", ["X"], ["y"])],
                                         {"y": "y_grad"})
