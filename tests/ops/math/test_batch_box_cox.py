"""BatchBoxCox: the per-column Box-Cox transform against a naive loop (zero and nonzero
lambda1 mixed), the eps floor, empty batches, Caffe2's messages and the gradient
decision."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, ShapeError
from caffe2lite.workspace import Workspace

OP = CreateOperator("BatchBoxCox", ["data", "lambda1", "lambda2"], ["out"])


def naive(data, lambda1, lambda2):
    n = data.shape[0]
    d = data.size // n if n else 0
    flat = data.reshape(n, d)
    out = np.empty((n, d), data.dtype)
    for i in range(n):
        for j in range(d):
            t = max(float(flat[i, j]) + float(lambda2[j]), 1e-6)
            l1 = float(lambda1[j])
            out[i, j] = math.log(t) if l1 == 0 else (t ** l1 - 1) / l1
    return [out.reshape(data.shape)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 5), trailing=st.lists(st.integers(1, 3), max_size=2),
       dtype=st.sampled_from([np.float32, np.float64]), block=st.sampled_from([0, 1, 256]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(n, trailing, dtype, block, seed):
    # Caffe2's batch_box_cox_test: lambda1 mixes zeros and nonzeros; min_block_size varies
    # (it only changed how the MKL path blocked the work).
    rng = np.random.default_rng(seed)
    d = int(np.prod(trailing))
    data = rng.uniform(-1, 3, [n] + trailing).astype(dtype)
    l1 = rng.uniform(-2, 2, d) * (rng.random(d) < 0.6)
    l2 = rng.uniform(0, 2, d)
    op = CreateOperator("BatchBoxCox", ["data", "lambda1", "lambda2"], ["out"],
                        min_block_size=block)
    # (t**l1 - 1) / l1 cancels for t**l1 near 1: a rounding of the power (a few ulps of
    # the dtype) is divided by l1, so the bound grows as l1 shrinks.
    nonzero = np.abs(l1[l1 != 0].astype(dtype))
    smallest = float(nonzero.min()) if nonzero.size else 1.0
    atol = 1e-5 + 16 * float(np.finfo(dtype).eps) / min(smallest, 1.0)
    testing.check_reference(op, [data, l1.astype(dtype), l2.astype(dtype)], naive,
                            atol=atol, rtol=2e-5)


def test_doc_values_eps_floor_and_in_place():
    data = np.array([[1, 3], [0, 8], [-5, -5]], np.float32)
    l1, l2 = np.array([0, 0.5], np.float32), np.array([1, 1], np.float32)
    got = testing.check_reference(OP, [data, l1, l2], naive)
    np.testing.assert_allclose(got[0][:2], [[math.log(2), 2], [0, 4]], rtol=1e-6)
    np.testing.assert_allclose(got[0][2], [math.log(1e-6), (1e-3 - 1) / 0.5], rtol=1e-5)
    ws = Workspace()
    for name, v in (("data", data), ("lambda1", l1), ("lambda2", l2)):
        ws.feed_blob(name, v)
    ws.run_operator_once(CreateOperator("BatchBoxCox", ["data", "lambda1", "lambda2"],
                                        ["data"]))
    np.testing.assert_array_equal(ws.fetch_blob("data"), got[0])


def test_empty_batch_ignores_the_lambdas():
    testing.check_reference(OP, [np.zeros((0, 3), np.float32), np.zeros(7, np.float32),
                                 np.zeros(1, np.float32)],
                            lambda *v: [np.zeros((0, 3), np.float32)])


def test_errors_and_gradient_decision():
    data = np.ones((2, 3), np.float32)
    v = np.ones(3, np.float32)
    testing.check_raises(OP, [data, np.ones(2, np.float32), v], ShapeError,
                         re.escape("lambda1.numel() == D. 2 vs 3"))
    testing.check_raises(OP, [data, v, np.ones(4, np.float32)], ShapeError,
                         re.escape("lambda2.numel() == D. 4 vs 3"))
    testing.check_raises(OP, [np.array(1.0, np.float32), v, v], ShapeError,
                         re.escape("data.dim() >= 1. 0 vs 1"))
    testing.check_raises(OP, [data.astype(np.int32), v, v], DTypeError,
                         "Unsupported type of tensor: int")
    testing.check_raises(OP, [data, v.astype(np.float64), v], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    with pytest.raises(GradientError):
        GradientRegistry.GetBackwardPass([OP], {"out": "out_grad"})
