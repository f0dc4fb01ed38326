"""Mean and MeanGradient: the mean of several tensors against a naive loop, in-place use,
Caffe2's messages, numeric gradients and the exact gradient op."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.workspace import Workspace


def naive_mean(*xs):
    """Add in order, then scale by 1/n formed in float32 (as Caffe2 did)."""
    out = np.empty(xs[0].shape, xs[0].dtype)
    scale = float(np.float32(1) / np.float32(len(xs)))
    for idx in np.ndindex(*out.shape):
        total = 0.0
        for x in xs:
            total += float(x[idx])
        out[idx] = total * scale
    return [out]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 5), shape=st.lists(st.integers(0, 4), max_size=3),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(n, shape, dtype, seed):
    # Caffe2's mean_op_test: k inputs of one shape, randn values.
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(shape).astype(dtype) for _ in range(n)]
    names = [f"X{i}" for i in range(n)]
    testing.check_reference(CreateOperator("Mean", names, ["M"]), xs, naive_mean,
                            atol=1e-6, rtol=1e-6)


def test_float64_is_scaled_by_float_reciprocal():
    xs = [np.array([1.0]), np.array([1.0]), np.array([1.0])]
    got = testing.check_reference(CreateOperator("Mean", ["A", "B", "C"], ["M"]), xs,
                                  naive_mean, atol=0, rtol=0)
    assert got[0][0] == 3 * float(np.float32(1 / 3)) != 1.0


def test_in_place():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.full((2, 3), 3, np.float32)
    ws = Workspace()
    for name, v in (("A", a), ("B", b)):
        ws.feed_blob(name, v)
    ws.run_operator_once(CreateOperator("Mean", ["A", "B"], ["A"]))
    np.testing.assert_array_equal(ws.fetch_blob("A"), (a + b) / 2)


def test_errors():
    op = CreateOperator("Mean", ["A", "B"], ["M"])
    testing.check_raises(op, [np.ones(3, np.int32)] * 2, DTypeError,
                         "Mean operator only supports 32-bit float or 64-bit double, but input "
                         "was of type int")
    testing.check_raises(op, [np.ones(3, np.float32), np.ones(3, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("Check failed: output->sizes() == Input(i).sizes()."
                                   "Description: Input #1, input dimension:[3] should match "
                                   "output dimension: [2, 3]"))
    testing.check_raises(CreateOperator("MeanGradient", ["dY"], ["dA"]),
                         [np.ones(2, np.int64)], DTypeError,
                         "Mean operator only supports 32-bit float or 64-bit double, but input "
                         "was of type long")


def test_zero_d():
    got = testing.check_reference(CreateOperator("Mean", ["A", "B"], ["M"]),
                                  [np.array(1.0), np.array(2.0)], lambda a, b: [np.array(1.5)])
    got = testing.check_reference(CreateOperator("MeanGradient", ["dY"], ["dA", "dB"]),
                                  [np.array(4.0, np.float32)],
                                  lambda dy: [np.array(2.0, np.float32)] * 2)
    assert all(isinstance(g, np.ndarray) for g in got)


def test_gradient_op_and_numeric_gradient():
    dy = np.array([[3, 6]], np.float32)
    testing.check_reference(CreateOperator("MeanGradient", ["dY"], ["dA", "dB", "dC"]), [dy],
                            lambda dy: [dy / 3] * 3)
    rng = np.random.default_rng(1)
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    # the float-formed 1/3 is off by 3e-8 relative: well inside the tolerance
    testing.check_gradient(CreateOperator("Mean", ["A", "B", "C"], ["M"]), xs, [0, 1, 2])


def test_gradient_ops_list():
    op = CreateOperator("Mean", ["A", "B"], ["M"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"M": "M_grad"})
    want = CreateOperator("MeanGradient", ["M_grad"], ["A_grad", "B_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
