"""Logit and LogitGradient: the clamped logit against a scalar reference, eps, edge
values, errors, numeric gradients and the exact gradient op."""

from __future__ import annotations

import math
import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
from caffe2lite.workspace import Workspace


def naive_logit(x, eps=1e-6):
    out = np.empty(x.shape, x.dtype)
    # eps travels as a float argument; Caffe2 formed 1 - eps in float too
    lo, hi = float(np.float32(eps)), float(np.float32(1) - np.float32(eps))
    for idx in np.ndindex(*x.shape):
        p = min(max(float(x[idx]), lo), hi)
        out[idx] = math.log(p / (1 - p))
    return [out]


def naive_logit_gradient(x, dy, eps=1e-6):
    out = np.empty(x.shape, x.dtype)
    eps = float(np.float32(eps))
    for idx in np.ndindex(*x.shape):
        v = float(x[idx])
        out[idx] = 0.0 if v < eps or v > 1 - eps else float(dy[idx]) / (v * (1 - v))
    return [out]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3), eps=st.sampled_from([1e-6, 1e-3, 0.1]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, eps, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-0.2, 1.2, shape)  # float64: clamping happens inside and outside
    testing.check_reference(CreateOperator("Logit", ["X"], ["Y"], eps=eps), [x],
                            lambda x: naive_logit(x, eps), atol=1e-9, rtol=1e-6)
    dy = rng.standard_normal(shape)
    testing.check_reference(CreateOperator("LogitGradient", ["X", "dY"], ["dX"], eps=eps),
                            [x, dy], lambda x, dy: naive_logit_gradient(x, dy, eps),
                            atol=1e-9, rtol=1e-9)


def test_float32_values_and_clamping():
    x = np.array([0.5, 0.25, -3, 0, 1, 7], np.float32)
    got = testing.check_reference(CreateOperator("Logit", ["X"], ["Y"]), [x],
                                  lambda x: naive_logit(x), rtol=2e-3)
    assert got[0][2] == got[0][3] and got[0][4] == got[0][5]
    assert np.isfinite(got[0]).all()
    dx = testing.check_reference(CreateOperator("LogitGradient", ["X", "dY"], ["dX"]),
                                 [x, np.ones(6, np.float32)], naive_logit_gradient)
    assert (dx[0][2:] == 0).all()


def test_in_place_and_errors():
    ws = Workspace()
    ws.feed_blob("X", np.array([0.5], np.float32))
    ws.run_operator_once(CreateOperator("Logit", ["X"], ["X"]))
    assert ws.fetch_blob("X")[0] == 0
    testing.check_raises(CreateOperator("Logit", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "Unsupported type of tensor: int")
    grad = CreateOperator("LogitGradient", ["X", "dY"], ["dX"])
    testing.check_raises(grad, [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("X.sizes() == dY.sizes()"))
    testing.check_raises(grad, [np.ones(2, np.float32), np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(grad, [np.ones(2, np.int32)] * 2, DTypeError,
                         "caller expects elements to be float while tensor contains int")
    testing.check_raises(CreateOperator("LogitGradient", ["X", "dY"], ["dY"]),
                         [np.ones(2, np.float32)] * 2, SchemaError, "in-place")


def test_numeric_gradient_and_ops_list():
    x = np.random.default_rng(1).uniform(0.05, 0.95, (2, 3))
    op = CreateOperator("Logit", ["X"], ["Y"], eps=1e-3)
    testing.check_gradient(op, [x], 0)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("LogitGradient", ["X", "Y_grad"], ["X_grad"], eps=1e-3)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
