from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError


def naive_lp_norm(x, p, average):
    total = 0.0
    for v in x.reshape(-1).tolist():
        total += abs(v) if p == 1 else v * v
    return [np.array([total / (x.size if average else 1)], x.dtype)]


def naive_lp_norm_gradient(x, dout, p, average):
    scale = dout[0] / (x.size if average else 1)
    out = []
    for v in x.reshape(-1).tolist():
        if p == 1:
            out.append(scale * (1 if v > 1e-12 else -1 if v < -1e-12 else 0))
        else:
            out.append(2 * v * scale)
    return [np.array(out, x.dtype).reshape(x.shape)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(1, 4), max_size=3), p=st.sampled_from([1, 2]),
       average=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, p, average, dtype, seed):
    # lpnorm_op_test.py: test_Lp_Norm (p in {1, 2}, average)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    op = CreateOperator("LpNorm", ["X"], ["Z"], p=p, average=average)
    testing.check_reference(op, [x], lambda x: naive_lp_norm(x, p, average), atol=1e-4)
    dout = rng.standard_normal(1).astype(dtype)
    grad = CreateOperator("LpNormGradient", ["X", "dout"], ["dx"], p=p, average=average)
    testing.check_reference(grad, [x, dout], lambda x, d: naive_lp_norm_gradient(x, d, p, average))


def test_empty_and_zeros():
    op = CreateOperator("LpNorm", ["X"], ["Z"], p=1)
    testing.check_reference(op, [np.zeros(0, np.float32)], lambda x: [np.zeros(1, np.float32)])
    grad = CreateOperator("LpNormGradient", ["X", "dout"], ["dx"], p=1)
    testing.check_reference(grad, [np.array([0, 1e-13, -2], np.float32), np.ones(1, np.float32)],
                            lambda *v: [np.array([0, 0, -1], np.float32)])


def test_errors():
    avg = CreateOperator("LpNorm", ["X"], ["Z"], average=1)
    testing.check_raises(avg, [np.zeros(0, np.float32)], ShapeError, re.escape("size > 0. 0 vs 0"))
    bad_p = CreateOperator("LpNorm", ["X"], ["Z"], p=3)
    with pytest.raises(ArgumentError, match="p should be either 1 or 2."):
        testing.check_reference(bad_p, [np.ones(2)], lambda x: [x])
    testing.check_raises(CreateOperator("LpNorm", ["X"], ["Z"]), [np.ones(2, np.int32)],
                         DTypeError, "tensor contains int")
    grad = CreateOperator("LpNormGradient", ["X", "dout"], ["dx"])
    testing.check_raises(grad, [np.ones(2), np.ones((1, 1))], ShapeError,
                         re.escape("dnorm.dim() == 1. 2 vs 1"))
    testing.check_raises(grad, [np.ones(2), np.ones(2)], ShapeError,
                         re.escape("dnorm.dim32(0) == 1. 2 vs 1"))


@pytest.mark.parametrize("p,average", [(1, False), (1, True), (2, False), (2, True)])
def test_numeric_gradient(p, average):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 4))
    testing.check_gradient(CreateOperator("LpNorm", ["X"], ["Z"], p=p, average=average), [x], [0])


def test_gradient_ops_list():
    op = CreateOperator("LpNorm", ["X"], ["Z"], p=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Z": "Z_grad"})
    want = CreateOperator("LpNormGradient", ["X", "Z_grad"], ["X_grad"], p=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
