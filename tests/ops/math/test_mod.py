"""Mod: C++'s remainder with and without sign_follow_divisor, against a naive loop;
types, errors and the gradient decision."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError
from caffe2lite.workspace import Workspace


def naive_mod(x, divisor, sign_follow_divisor):
    out = np.empty(x.shape, x.dtype)
    for idx in np.ndindex(*x.shape):
        v = int(x[idx])
        r = abs(v) % abs(divisor) * (1 if v >= 0 else -1)  # C++: the dividend's sign
        if r and sign_follow_divisor and (r > 0) != (divisor > 0):
            r += divisor
        out[idx] = r
    return [out]


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       divisor=st.integers(-20, 20).filter(bool), sign=st.booleans(),
       dtype=st.sampled_from([np.int32, np.int64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, divisor, sign, dtype, seed):
    x = np.random.default_rng(seed).integers(-100, 100, shape).astype(dtype)
    op = CreateOperator("Mod", ["X"], ["Y"], divisor=divisor, sign_follow_divisor=sign)
    testing.check_reference(op, [x], lambda x: naive_mod(x, divisor, sign), atol=0)


def test_caffe2_cases():
    x = np.array([56, 22, 43, -13, 60], np.int32)
    testing.check_reference(CreateOperator("Mod", ["X"], ["Y"], divisor=10), [x],
                            lambda x: [np.array([6, 2, 3, -3, 0], np.int32)])
    testing.check_reference(
        CreateOperator("Mod", ["X"], ["Y"], divisor=10, sign_follow_divisor=True), [x],
        lambda x: [np.array([6, 2, 3, 7, 0], np.int32)])
    big = np.array([2**40 + 5, -(2**40) - 5], np.int64)
    testing.check_reference(CreateOperator("Mod", ["X"], ["Y"], divisor=2**33), [big],
                            lambda x: [np.array([5, -5], np.int64)])
    testing.check_reference(CreateOperator("Mod", ["X"], ["Y"], divisor=2**40),
                            [np.array([-7, 7], np.int32)],
                            lambda x: [np.array([-7, 7], np.int32)])


def test_in_place_empty_and_zero_d():
    ws = Workspace()
    ws.feed_blob("X", np.array([7, -8], np.int64))
    ws.run_operator_once(CreateOperator("Mod", ["X"], ["X"], divisor=-3))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [1, -2])
    op = CreateOperator("Mod", ["X"], ["Y"], divisor=4)
    testing.check_reference(op, [np.zeros((0, 2), np.int32)],
                            lambda x: [np.zeros((0, 2), np.int32)])
    got = testing.check_reference(op, [np.array(-9, np.int64)],
                                  lambda x: [np.array(-1, np.int64)])
    assert isinstance(got[0], np.ndarray) and got[0].shape == ()


def test_errors_and_gradient_decision():
    x = np.array([1, 2], np.int32)
    testing.check_raises(CreateOperator("Mod", ["X"], ["Y"]), [x], EnforceError,
                         re.escape("divisor_ != 0. 0 vs 0. divisor must not be 0"))
    testing.check_raises(CreateOperator("Mod", ["X"], ["Y"], divisor=2),
                         [x.astype(np.float32)], DTypeError,
                         "Unsupported type of tensor: float")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([CreateOperator("Mod", ["X"], ["Y"], divisor=2)],
                                         {"Y": "Y_grad"})
