"""Max, Min and their gradient ops: folds of several same-shaped inputs against naive
loops, ties, NaN, errors, numeric gradients and the exact gradient ops."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.workspace import Workspace

PICK = {"Max": lambda a, b: max(a, b), "Min": lambda a, b: min(a, b)}


def naive(op_type):
    pick = PICK[op_type]

    def ref(*xs):
        out = np.empty(xs[0].shape, xs[0].dtype)
        for idx in np.ndindex(*out.shape):
            v = xs[0][idx]
            for x in xs[1:]:
                v = pick(v, x[idx])
            out[idx] = v
        return [out]

    return ref


def naive_gradient(y, dy, *xs):
    outs = [np.zeros(x.shape, x.dtype) for x in xs]
    for k, x in enumerate(xs):
        for idx in np.ndindex(*x.shape):
            if x[idx] == y[idx]:
                outs[k][idx] = dy[idx]
    return outs


@settings(max_examples=30, deadline=None)
@given(op_type=st.sampled_from(["Max", "Min"]), n=st.integers(1, 4),
       shape=st.lists(st.integers(0, 3), max_size=3), dtype=st.sampled_from([np.float32,
                                                                              np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loops(op_type, n, shape, dtype, seed):
    rng = np.random.default_rng(seed)
    xs = [rng.integers(-3, 3, shape).astype(dtype) for _ in range(n)]  # many ties
    names = [f"X{i}" for i in range(n)]
    got = testing.check_reference(CreateOperator(op_type, names, ["M"]), xs, naive(op_type),
                                  atol=0, rtol=0)
    dy = rng.standard_normal(shape).astype(dtype)
    grad = CreateOperator(op_type + "Gradient", ["M", "dM"] + names, [n + "_g" for n in names])
    testing.check_reference(grad, [got[0], dy] + xs, naive_gradient, atol=0, rtol=0)


def test_caffe2_style_in_place_and_single_input():
    x = np.array([1, 5, 3], np.float32)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.feed_blob("Y", np.array([4, 2, 3], np.float32))
    ws.run_operator_once(CreateOperator("Max", ["X", "Y"], ["X"]))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [4, 5, 3])
    testing.check_reference(CreateOperator("Min", ["X"], ["M"]), [x], lambda x: [x])


def test_nan_propagates():
    a = np.array([np.nan, 1], np.float32)
    b = np.array([0, np.nan], np.float32)
    got = testing.check_reference(CreateOperator("Max", ["A", "B"], ["M"]), [a, b],
                                  lambda a, b: [np.array([np.nan, np.nan], np.float32)])
    assert np.isnan(got[0]).all()


@pytest.mark.parametrize("op_type", ["Max", "Min"])
def test_errors(op_type):
    op = CreateOperator(op_type, ["A", "B", "C"], ["M"])
    f = np.ones((2, 3), np.float32)
    testing.check_raises(op, [f, f, np.ones(3, np.float32)], ShapeError, re.escape(
        "X2.sizes() == Y->sizes(). [3] vs [2, 3]. Description: Input #2, input dimension:[3] "
        "should match output dimension: [2, 3]"))
    testing.check_raises(op, [f, np.ones(6, np.float32), f], ShapeError,
                         re.escape("Description: Input #1"))
    testing.check_raises(op, [np.ones(3, np.int32)] * 3, DTypeError,
                         "caller expects elements to be float while tensor contains int")
    testing.check_raises(op, [f, f.astype(np.float64), f], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    grad = CreateOperator(op_type + "Gradient", ["M", "dM", "A", "B"], ["dA"])
    testing.check_raises(grad, [f] * 4, EnforceError, "OutputSize")
    grad = CreateOperator(op_type + "Gradient", ["M", "dM", "A"], ["dA"])
    testing.check_raises(grad, [f, f, np.ones(6, np.float32)], ShapeError,
                         re.escape("X0.sizes() == Y.sizes()"))


@pytest.mark.parametrize("op_type", ["Max", "Min"])
def test_numeric_gradient(op_type):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]  # no ties
    testing.check_gradient(CreateOperator(op_type, ["A", "B", "C"], ["M"]), xs, [0, 1, 2])


@pytest.mark.parametrize("op_type", ["Max", "Min"])
def test_gradient_ops_list(op_type):
    op = CreateOperator(op_type, ["A", "B", "C"], ["M"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"M": "M_grad"})
    want = CreateOperator(op_type + "Gradient", ["M", "M_grad", "A", "B", "C"],
                          ["A_grad", "B_grad", "C_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert [str(grads[n]) for n in "ABC"] == ["A_grad", "B_grad", "C_grad"]
