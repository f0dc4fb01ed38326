"""Clip and ClipGradient: clamping against a naive loop, one-sided bounds, NaN, in-place
use, errors, numeric gradients and the exact gradient op."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.workspace import Workspace


def naive_clip(x, lo, hi):
    out = x.copy()
    for idx in np.ndindex(*x.shape):
        v = x[idx]
        if lo is not None and v < lo:
            v = lo
        if hi is not None and v > hi:
            v = hi
        out[idx] = v
    return [out]


def naive_clip_gradient(y, dy, lo, hi):
    out = np.zeros(y.shape, y.dtype)
    for idx in np.ndindex(*y.shape):
        if (lo is None or y[idx] > lo) and (hi is None or y[idx] < hi):
            out[idx] = dy[idx]
    return [out]


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=3),
       lo=st.one_of(st.none(), st.floats(-2, 0)), hi=st.one_of(st.none(), st.floats(0, 2)),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, lo, hi, dtype, seed):
    # Caffe2's clip_op_test: random X, min in [-2, 0] and max in [0, 2] (either optional).
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, shape).astype(dtype)
    lo = None if lo is None else float(np.float32(lo))
    hi = None if hi is None else float(np.float32(hi))
    args = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
    tlo = None if lo is None else dtype(lo)
    thi = None if hi is None else dtype(hi)
    y = testing.check_reference(CreateOperator("Clip", ["X"], ["Y"], **args), [x],
                                lambda x: naive_clip(x, tlo, thi), atol=0, rtol=0)[0]
    dy = rng.standard_normal(shape).astype(dtype)
    testing.check_reference(CreateOperator("ClipGradient", ["Y", "dY"], ["dX"], **args),
                            [y, dy], lambda y, dy: naive_clip_gradient(y, dy, tlo, thi),
                            atol=0, rtol=0)


def test_nan_inverted_bounds_and_in_place():
    x = np.array([np.nan, -5, 5], np.float32)
    got = testing.check_reference(CreateOperator("Clip", ["X"], ["Y"], min=-1.0, max=1.0),
                                  [x], lambda x: [np.array([np.nan, -1, 1], np.float32)])
    assert np.isnan(got[0][0])
    testing.check_reference(CreateOperator("Clip", ["X"], ["Y"], min=2.0, max=1.0),
                            [np.array([0, 5], np.float32)],
                            lambda x: [np.array([1, 1], np.float32)])
    ws = Workspace()
    ws.feed_blob("X", np.array([-3, 3], np.float32))
    ws.run_operator_once(CreateOperator("Clip", ["X"], ["X"], max=0.0))
    np.testing.assert_array_equal(ws.fetch_blob("X"), [-3, 0])
    ws.feed_blob("dY", np.array([1, 1], np.float32))
    ws.run_operator_once(CreateOperator("ClipGradient", ["X", "dY"], ["dY"], max=0.0))
    np.testing.assert_array_equal(ws.fetch_blob("dY"), [1, 0])


def test_errors():
    testing.check_raises(CreateOperator("Clip", ["X"], ["Y"]), [np.ones(2, np.int32)],
                         DTypeError, "caller expects elements to be float while tensor "
                                     "contains int")
    grad = CreateOperator("ClipGradient", ["Y", "dY"], ["dX"])
    testing.check_raises(grad, [np.ones(2, np.float32), np.ones(3, np.float32)], ShapeError,
                         re.escape("dY.numel() == Y.numel(). 3 vs 2"))
    testing.check_raises(grad, [np.ones(2, np.float32), np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")


def test_numeric_gradient_and_ops_list():
    x = np.array([[-1.7, -0.3, 0.4], [0.9, 1.6, -2.2]])
    op = CreateOperator("Clip", ["X"], ["Y"], min=-1.0, max=1.0)
    testing.check_gradient(op, [x], 0)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("ClipGradient", ["Y", "Y_grad"], ["X_grad"], min=-1.0, max=1.0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_default_bounds_are_the_float_limits():
    # Caffe2's test_clip_default: no bounds leave finite values alone; its defaults were
    # numeric_limits<float>::lowest() and ::max(), so infinities are clipped to them.
    big = np.finfo(np.float32).max
    for dtype in (np.float32, np.float64):
        x = np.array([-np.inf, -1e30, 0.04, np.inf], dtype)
        want = np.array([-big, -1e30, 0.04, big], dtype)
        y = testing.check_reference(CreateOperator("Clip", ["X"], ["Y"]), [x],
                                    lambda x, want=want: [want], atol=0, rtol=0)[0]
        testing.check_reference(CreateOperator("ClipGradient", ["Y", "dY"], ["dX"]),
                                [y, np.ones(4, dtype)],
                                lambda y, dy, dtype=dtype: [np.array([0, 1, 1, 0], dtype)],
                                atol=0)
