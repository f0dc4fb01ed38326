from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype)

    def naive(v):
        total = 0.0
        for e in v.reshape(-1).tolist():
            total += e
        return [np.array(total / v.size if v.size else 0.0, dtype=dtype)]

    testing.check_reference(CreateOperator("AveragedLoss", ["X"], ["L"]), [x], naive, atol=1e-5)
    dl = np.asarray(rng.standard_normal(()), dtype=dtype)

    def naive_grad(v, g):
        out = np.empty(v.shape, dtype)
        for idx in np.ndindex(*v.shape):
            out[idx] = float(g) / v.size
        return [out]

    grad = CreateOperator("AveragedLossGradient", ["X", "dL"], ["dX"])
    testing.check_reference(grad, [x, dl], naive_grad, atol=1e-7)


def test_output_is_a_scalar_tensor():
    out = testing.check_reference(CreateOperator("AveragedLoss", ["X"], ["L"]),
                                  [np.array([8, 10, 12], np.float32)],
                                  lambda v: [np.array(10, np.float32)])
    assert out[0].shape == ()


def test_errors():
    testing.check_raises(CreateOperator("AveragedLoss", ["X"], ["L"]), [np.ones(2, np.int32)],
                         DTypeError,
                         "caller expects elements to be float while tensor contains int")
    testing.check_raises(CreateOperator("AveragedLossGradient", ["X", "dL"], ["dX"]),
                         [np.ones(2, np.float32), np.ones(2, np.float32)], ShapeError,
                         re.escape("sum_grad.numel() == 1. 2 vs 1"))


def test_numeric_gradient():
    x = np.random.default_rng(10).standard_normal((3, 4))
    testing.check_gradient(CreateOperator("AveragedLoss", ["X"], ["L"]), [x], 0)


def test_gradient_ops_list():
    ops, _ = GradientRegistry.GetBackwardPass([CreateOperator("AveragedLoss", ["X"], ["L"])],
                                              {"L": "L_grad"})
    want = CreateOperator("AveragedLossGradient", ["X", "L_grad"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape(("N", 3), np.float64)
    assert infer_op(CreateOperator("AveragedLoss", ["X"], ["L"]), [x]) == [
        TensorShape((), np.float64)
    ]
    grad = CreateOperator("AveragedLossGradient", ["X", "dL"], ["dX"])
    assert infer_op(grad, [x, TensorShape((), np.float64)]) == [x]
