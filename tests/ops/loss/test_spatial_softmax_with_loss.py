from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError


def naive_spatial(x, t, w=None):
    n, d, h, wd = x.shape
    probs = np.zeros(x.shape, x.dtype)
    loss, total = 0.0, 0.0
    for i in range(n):
        for y in range(h):
            for c in range(wd):
                col = [float(x[i, k, y, c]) for k in range(d)]
                top = max(col)
                exps = [math.exp(v - top) for v in col]
                s = sum(exps)
                for k in range(d):
                    probs[i, k, y, c] = exps[k] / s
                label = int(t[i, y, c])
                if label != -1:
                    wt = 1.0 if w is None else float(w[i, y, c])
                    total += wt
                    loss += -math.log(max(exps[label] / s, 1e-20)) * wt
    return [probs, np.array(loss / total if total != 0 else 0.0, x.dtype)]


def naive_gradient(x, t, w, p, dy, scale=1.0):
    n, d, h, wd = x.shape
    dx = np.array(p, dtype=np.float64)
    total = 0.0
    for i in range(n):
        for y in range(h):
            for c in range(wd):
                label = int(t[i, y, c])
                if label == -1:
                    dx[i, :, y, c] = 0
                    continue
                dx[i, label, y, c] -= 1
                wt = 1.0 if w is None else float(w[i, y, c])
                dx[i, :, y, c] *= wt
                total += wt
    if total > 0:
        dx *= scale / total
    return [(dx * float(dy)).astype(x.dtype)]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), d=st.integers(1, 4), h=st.integers(1, 3), w=st.integers(1, 3),
       weighted=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(n, d, h, w, weighted, dtype, seed):
    # softmax_ops_test.py: test_spatial_softmax_with_loss (labels with -1 "don't care")
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, d, h, w)) * 3).astype(dtype)
    t = rng.integers(-1, d, (n, h, w)).astype(np.int32)
    inputs = [x, t] + ([rng.uniform(0, 2, (n, h, w)).astype(dtype)] if weighted else [])
    names = ["X", "T", "W"][:len(inputs)]
    op = CreateOperator("SpatialSoftmaxWithLoss", names, ["P", "loss"])
    p, _ = testing.check_reference(op, inputs, naive_spatial, atol=1e-5, rtol=1e-4)
    dy = np.array(rng.standard_normal(), dtype)
    grad = CreateOperator("SpatialSoftmaxWithLossGradient", names + ["P", "dY"], ["dX"], scale=2.0)
    testing.check_reference(
        grad, inputs + [p, dy],
        lambda x, t, *r: naive_gradient(x, t, r[0] if weighted else None, r[-2], r[-1], 2.0),
        atol=1e-5, rtol=1e-4)


def test_all_dont_care_gives_zero():
    op = CreateOperator("SpatialSoftmaxWithLoss", ["X", "T"], ["P", "loss"])
    out = testing.check_reference(op, [np.zeros((1, 2, 1, 1)), np.full((1, 1, 1), -1, np.int32)],
                                  lambda *v: [np.full((1, 2, 1, 1), 0.5), np.array(0.0)])
    assert out[1].shape == ()


def test_errors():
    op = CreateOperator("SpatialSoftmaxWithLoss", ["X", "T"], ["P", "loss"])
    x = np.zeros((1, 2, 2, 2), np.float32)
    testing.check_raises(op, [x, np.full((1, 2, 2), 2, np.int32)], EnforceError,
                         re.escape("Label seems incorrect:label value larger than number of "
                                   "classes2 vs 2"))
    testing.check_raises(op, [x.reshape(1, 2, 4), np.zeros((1, 2, 2), np.int32)], ShapeError,
                         re.escape("X.dim() == 4. 3 vs 4"))
    testing.check_raises(op, [x, np.zeros((1, 4), np.int32)], ShapeError,
                         re.escape("T.dim() == 3. 2 vs 3"))
    testing.check_raises(op, [x, np.zeros((2, 2, 2), np.int32)], ShapeError,
                         re.escape("T.dim32(0) == N. 2 vs 1"))
    testing.check_raises(op, [x, np.zeros((1, 2, 3), np.int32)], ShapeError,
                         re.escape("T.sizes() == (N, H, W)"))
    testing.check_raises(op, [x, np.zeros((1, 2, 2), np.int64)], DTypeError,
                         "caller expects elements to be int")
    weighted = CreateOperator("SpatialSoftmaxWithLoss", ["X", "T", "W"], ["P", "loss"])
    testing.check_raises(weighted, [x, np.zeros((1, 2, 2), np.int32), np.ones(3, np.float32)],
                         ShapeError, re.escape("weight_tensor.numel() == N * H * W. 3 vs 4"))


@pytest.mark.parametrize("weighted", [False, True])
def test_numeric_gradient(weighted):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 2, 2))
    t = np.array([[[0, -1], [2, 1]], [[1, 1], [-1, 0]]], np.int32)
    inputs = [x, t] + ([rng.uniform(0.5, 2, (2, 2, 2))] if weighted else [])
    op = CreateOperator("SpatialSoftmaxWithLoss", ["X", "T", "W"][:len(inputs)], ["P", "loss"])
    testing.check_gradient(op, inputs, [0], outputs=[1])


def test_gradient_ops_list():
    op = CreateOperator("SpatialSoftmaxWithLoss", ["X", "T", "W"], ["P", "loss"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"loss": "loss_grad"})
    want = CreateOperator("SpatialSoftmaxWithLossGradient", ["X", "T", "W", "P", "loss_grad"],
                          ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_all_ignored_with_weights():
    # softmax_ops_test.py: test_spatial_softmax_with_loss_allignore
    rng = np.random.default_rng(2603)
    x = rng.random((4, 3, 2, 3)).astype(np.float32) + 1e-2
    t = np.full((4, 2, 3), -1, np.int32)
    w = rng.random((4, 2, 3)).astype(np.float32)
    op = CreateOperator("SpatialSoftmaxWithLoss", ["X", "T", "W"], ["P", "loss"])
    p, loss = testing.check_reference(op, [x, t, w], naive_spatial)
    assert loss == 0
    grad = CreateOperator("SpatialSoftmaxWithLossGradient", ["X", "T", "W", "P", "dY"], ["dX"])
    testing.check_reference(grad, [x, t, w, p, np.array(1, np.float32)],
                            lambda *v: [np.zeros_like(x)])
