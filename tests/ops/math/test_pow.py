"""Pow: the exponent as an argument or a tensor (same shape or legacy broadcast), its
errors, and the gradient Caffe2 built from other ops (checked op by op, numerically,
and against Caffe2's test_powt reference)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import (
    DTypeError,
    EnforceError,
    GradientError,
    SchemaError,
    ShapeError,
)
from caffe2lite.workspace import Workspace


def naive_pow(x, e):
    """Element by element with math.pow; e a float or an array broadcastable to x."""
    e = np.broadcast_to(np.asarray(e, x.dtype), x.shape)
    out = np.empty(x.shape, x.dtype)
    for idx in np.ndindex(*x.shape):
        out[idx] = math.pow(float(x[idx]), float(e[idx]))
    return out


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), exponent=st.sampled_from(
    [0.0, 1.0, 2.0, 3.0, -1.0, 0.5, -2.5]), dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16))
def test_exponent_argument_matches_naive_loop(shape, exponent, dtype, seed):
    x = np.random.default_rng(seed).uniform(0.1, 3, shape).astype(dtype)
    op = CreateOperator("Pow", ["X"], ["Y"], exponent=exponent)
    testing.check_reference(op, [x], lambda x: [naive_pow(x, exponent)], atol=1e-30,
                            rtol=3e-6)


def test_negative_base_and_zero_d():
    op = CreateOperator("Pow", ["X"], ["Y"], exponent=3.0)
    testing.check_reference(op, [np.array([-2, 0, 1.5], np.float32)],
                            lambda x: [np.array([-8, 0, 3.375], np.float32)])
    got = testing.check_reference(CreateOperator("Pow", ["X"], ["Y"], exponent=0.5),
                                  [np.array([-4, 4], np.float32)],
                                  lambda x: [np.array([np.nan, 2], np.float32)])
    assert np.isnan(got[0][0])
    testing.check_reference(op, [np.array(2.0)], lambda x: [np.array(8.0)])


def test_exponent_tensor_same_shape():
    rng = np.random.default_rng(1)
    x = rng.uniform(1, 2, (3, 4, 2)).astype(np.float32)
    e = rng.uniform(2, 3, (3, 4, 2)).astype(np.float32)
    testing.check_reference(CreateOperator("Pow", ["X", "E"], ["Y"]), [x, e],
                            lambda x, e: [naive_pow(x, e)], rtol=3e-6)


@pytest.mark.parametrize("x_shape,e_shape,axis,view", [
    ((2, 3, 4), (), -1, ()), ((2, 3, 4), (1,), -1, ()), ((2, 3, 4), (4,), -1, (4,)),
    ((2, 3, 4), (3, 4), -1, (3, 4)), ((2, 3, 4), (3,), 1, (3, 1)), ((2, 3, 4), (2,), 0, (2, 1, 1)),
])
def test_exponent_tensor_legacy_broadcast(x_shape, e_shape, axis, view):
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 2, x_shape).astype(np.float32)
    e = rng.uniform(-2, 2, e_shape).astype(np.float32)
    op = CreateOperator("Pow", ["X", "E"], ["Y"], broadcast=1, axis=axis)
    testing.check_reference(op, [x, e], lambda x, e: [naive_pow(x, e.reshape(view))], rtol=3e-6)


def test_axis_str_and_in_place():
    x = np.full((2, 3, 4, 5), 2, np.float32)
    e = np.arange(3, dtype=np.float32)
    op = CreateOperator("Pow", ["X", "E"], ["X"], broadcast=1, axis_str="C")
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("E", e)
    ws.run_operator_once(op)
    np.testing.assert_array_equal(ws.fetch_blob("X")[0, :, 0, 0], [1, 2, 4])
    same = CreateOperator("Pow", ["X", "E"], ["E"])
    testing.check_reference(same, [np.full(3, 3, np.float32), np.arange(3, dtype=np.float32)],
                            lambda x, e: [np.array([1, 3, 9], np.float32)])


def test_errors():
    testing.check_raises(CreateOperator("Pow", ["X"], ["Y"]), [np.ones(2, np.float32)],
                         EnforceError, re.escape("Only a tensor with an argument or two input "
                                                 "tensors are supported as input to pow "
                                                 "operator."))
    two = CreateOperator("Pow", ["X", "E"], ["Y"])
    testing.check_raises(two, [np.ones((2, 3), np.float32), np.ones(3, np.float32)],
                         ShapeError, re.escape("A.sizes() == B.sizes(). [2, 3] vs [3]. "
                                               "Dimension mismatch - did you forget to set "
                                               "broadcast=1?"))
    testing.check_raises(CreateOperator("Pow", ["X", "E"], ["Y"], axis=0),
                         [np.ones(3, np.float32)] * 2, EnforceError,
                         "Do not specify axis or axis_str if broadcast is not enabled.")
    testing.check_raises(CreateOperator("Pow", ["X", "E"], ["E"], broadcast=1),
                         [np.ones(3, np.float32)] * 2, EnforceError,
                         "In-place is allowed only with the first tensor when broadcasting")
    testing.check_raises(two, [np.ones(3, np.int32)] * 2, DTypeError,
                         "Unsupported type of tensor: int")
    testing.check_raises(two, [np.ones(3, np.float32), np.ones(3, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(CreateOperator("Pow", ["X", "E"], ["Y"], broadcast=1),
                         [np.ones((2, 3), np.float32), np.ones(2, np.float32)], ShapeError,
                         "Broadcast dimension mismatch.")
    testing.check_raises(CreateOperator("Pow", ["X", "E", "F"], ["Y"]),
                         [np.ones(2, np.float32)] * 3, SchemaError, "Input size 3")


def _backward(op):
    ops, grads = GradientRegistry.GetBackwardPass([op], {op.output[0]: op.output[0] + "_grad"})
    return [(o.type, list(o.input), list(o.output),
             {a.name: (a.f if a.HasField("f") else a.i if a.HasField("i") else a.s.decode())
              for a in o.arg}) for o in ops], grads


def test_gradient_ops_with_exponent_argument():
    ops, _ = _backward(CreateOperator("Pow", ["X"], ["Y"], exponent=3.0))
    assert ops == [("Pow", ["X"], ["X_grad"], {"exponent": 2.0}),
                   ("Mul", ["X_grad", "Y_grad"], ["X_grad"], {}),
                   ("Scale", ["X_grad"], ["X_grad"], {"scale": 3.0})]
    ops, _ = _backward(CreateOperator("Pow", ["X"], ["X"], exponent=4.0))
    assert ops[0] == ("Pow", ["X"], ["X_grad"], {"exponent": 0.75})
    with pytest.raises(GradientError, match=re.escape("std::fabs(exponent) > kEps")):
        _backward(CreateOperator("Pow", ["X"], ["X"], exponent=0.0))


def test_gradient_ops_with_exponent_tensor():
    ops, grads = _backward(CreateOperator("Pow", ["X", "E"], ["Y"]))
    assert ops == [
        ("ConstantFill", ["E"], ["E_grad"], {"value": 1.0}),
        ("Sub", ["E", "E_grad"], ["E_grad"], {}),
        ("Pow", ["X", "E_grad"], ["X_grad"], {}),
        ("Mul", ["X_grad", "Y_grad"], ["X_grad"], {}),
        ("Mul", ["X_grad", "E"], ["X_grad"], {}),
        ("Log", ["X"], ["E_grad_autogen_pre_red"], {}),
        ("Mul", ["E_grad_autogen_pre_red", "Y"], ["E_grad_autogen_pre_red"], {}),
        ("Mul", ["E_grad_autogen_pre_red", "Y_grad"], ["E_grad"], {}),
    ]
    assert (str(grads["X"]), str(grads["E"])) == ("X_grad", "E_grad")
    ops, _ = _backward(CreateOperator("Pow", ["X", "E"], ["Y"], broadcast=1, axis=1))
    bargs = {"broadcast": 1, "axis": 1, "axis_str": "", "order": "NCHW"}
    assert ops[2] == ("Pow", ["X", "E_grad"], ["X_grad"], bargs)
    assert ops[4] == ("Mul", ["X_grad", "E"], ["X_grad"], bargs)
    assert ops[-2:] == [
        ("Mul", ["E_grad_autogen_pre_red", "Y_grad"], ["E_grad_autogen_pre_red"], {}),
        ("SumReduceLike", ["E_grad_autogen_pre_red", "E"], ["E_grad"],
         {"axis": 1, "axis_str": "", "order": "NCHW"}),
    ]
    with pytest.raises(GradientError, match="Gradient computation cannot be carried out if "
                                            "Pow uses in-place computation"):
        _backward(CreateOperator("Pow", ["X", "E"], ["X"]))


def test_numeric_gradient_exponent_argument():
    x = np.random.default_rng(3).uniform(0.5, 2, (2, 3))
    for e in (2.0, -1.5, 0.5):
        testing.check_gradient(CreateOperator("Pow", ["X"], ["Y"], exponent=e), [x], 0)


def _run_backward(op, inputs, dy):
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    ws = Workspace()
    for name, value in zip(op.input, inputs):
        ws.feed_blob(name, value)
    ws.feed_blob("Y_grad", dy)
    ws.run_operator_once(op)
    for o in ops:
        ws.run_operator_once(o)
    return ws.fetch_blob("Y"), [ws.fetch_blob(str(grads[n])) for n in op.input]


def test_tensor_exponent_gradient_matches_caffe2_reference():
    # Caffe2's test_powt: dX = E * X^(E-1) * dY, dE = Y * ln(X) * dY (float32 nets: the
    # ConstantFill in the chain makes float).
    rng = np.random.default_rng(4)
    x = (rng.random((3, 4, 2)) + 1).astype(np.float32)
    e = (rng.random((3, 4, 2)) + 2).astype(np.float32)
    dy = rng.standard_normal((3, 4, 2)).astype(np.float32)
    y, (dx, de) = _run_backward(CreateOperator("Pow", ["X", "E"], ["Y"]), [x, e], dy)
    np.testing.assert_allclose(dx, e * np.power(x, e - 1) * dy, rtol=1e-5)
    np.testing.assert_allclose(de, y * np.log(x) * dy, rtol=1e-5)


def test_tensor_exponent_gradient_with_legacy_broadcast_sums_like_e():
    rng = np.random.default_rng(5)
    x = rng.uniform(1, 2, (2, 3, 4)).astype(np.float32)
    e = rng.uniform(1, 2, (3,)).astype(np.float32)
    dy = rng.standard_normal((2, 3, 4)).astype(np.float32)
    op = CreateOperator("Pow", ["X", "E"], ["Y"], broadcast=1, axis=1)
    y, (dx, de) = _run_backward(op, [x, e], dy)
    ev = e.reshape(3, 1)
    np.testing.assert_allclose(dx, ev * np.power(x, ev - 1) * dy, rtol=1e-5)
    np.testing.assert_allclose(de, (y * np.log(x) * dy).sum(axis=(0, 2)), rtol=1e-4)


def test_caffe2_elementwise_power_and_inferred_shapes():
    # math_ops_test.py test_elementwise_power: |X| (zeros included), exponent in [2, 3],
    # gradient exponent * X^(exponent - 1) * dY; outputs must be inferred.
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    rng = np.random.default_rng(6)
    x = np.abs(rng.standard_normal((3, 4))).astype(np.float32)
    x[0, 0] = 0
    dy = rng.standard_normal((3, 4)).astype(np.float32)
    for exponent in (2.0, 2.5, 3.0):
        op = CreateOperator("Pow", ["X"], ["Y"], exponent=exponent)
        y, (dx,) = _run_backward(op, [x], dy)
        np.testing.assert_allclose(y, x ** np.float32(exponent), rtol=1e-6)
        np.testing.assert_allclose(dx, exponent * x ** np.float32(exponent - 1) * dy,
                                   rtol=1e-5, atol=1e-7)
        assert infer_op(op, [TensorShape((3, 4), np.float32)]) == [
            TensorShape((3, 4), np.float32)]
