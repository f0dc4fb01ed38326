"""GroupNorm / GroupNormGradient against per-image, per-group loops in both orders
(2-D and 3-D images, Caffe2's group_norm_op_test cases), the gradient op against a
loop over the chain rule, numeric gradients, Caffe2's gradient op, errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, SchemaError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.shapes import TensorShape


def _cells(shape, order):
    """For every element index of an image batch: (n, c, position index)."""
    if order == "NCHW":
        for idx in np.ndindex(*shape):
            yield idx, idx[0], idx[1]
    else:
        for idx in np.ndindex(*shape):
            yield idx, idx[0], idx[-1]


def naive_group_norm(x, gamma, beta, group, epsilon, order):
    n = x.shape[0]
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    d = c // group
    members = {}
    for idx, i, ch in _cells(x.shape, order):
        members.setdefault((i, ch // d), []).append(float(x[idx]))
    mean = np.zeros((n, group))
    rstd = np.zeros((n, group))
    for (i, g), vals in members.items():
        m = sum(vals) / len(vals)
        v = sum((a - m) ** 2 for a in vals) / len(vals)
        mean[i, g] = m
        rstd[i, g] = 1 / math.sqrt(v + epsilon)
    y = np.zeros(x.shape)
    for idx, i, ch in _cells(x.shape, order):
        g = ch // d
        y[idx] = gamma[ch] * (x[idx] - mean[i, g]) * rstd[i, g] + beta[ch]
    return [y.astype(x.dtype), mean.astype(x.dtype), rstd.astype(x.dtype)]


def naive_group_norm_gradient(dy, x, gamma, mean, rstd, group, order):
    """dX by the chain rule through mean and variance, term by term."""
    c = x.shape[1] if order == "NCHW" else x.shape[-1]
    d = c // group
    groups = {}
    for idx, i, ch in _cells(x.shape, order):
        groups.setdefault((i, ch // d), []).append((idx, ch))
    dx = np.zeros(x.shape)
    dgamma = np.zeros(c)
    dbeta = np.zeros(c)
    for (i, g), members in groups.items():
        m = len(members)
        mu, r = mean[i, g], rstd[i, g]
        # dL/dxhat_j = gamma * dy_j; dx_j = r * (dxhat_j - mean(dxhat) - xhat_j * mean(dxhat * xhat))
        xhat = {idx: (x[idx] - mu) * r for idx, _ in members}
        dxhat = {idx: gamma[ch] * dy[idx] for idx, ch in members}
        a = sum(dxhat.values()) / m
        b = sum(dxhat[idx] * xhat[idx] for idx, _ in members) / m
        for idx, ch in members:
            dx[idx] = r * (dxhat[idx] - a - xhat[idx] * b)
            dgamma[ch] += dy[idx] * xhat[idx]
            dbeta[ch] += dy[idx]
    return [dx, dgamma, dbeta]


def _image(rng, n, c, spatial, order):
    shape = (n, c, *spatial) if order == "NCHW" else (n, *spatial, c)
    return rng.standard_normal(shape).astype(np.float32) + 1.0


@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 3), g=st.integers(1, 3), d=st.integers(1, 3),
       spatial=st.lists(st.integers(1, 3), min_size=1, max_size=3),
       epsilon=st.floats(1e-5, 1e-4), order=st.sampled_from(["NCHW", "NHWC"]),
       seed=st.integers(0, 999))
def test_forward_matches_loops(n, g, d, spatial, epsilon, order, seed):
    # Caffe2's test_group_norm_2d / _3d: N, G, D in 1..5, X = randn + 1, three outputs
    rng = np.random.default_rng(seed)
    x = _image(rng, n, g * d, spatial, order)
    gamma = rng.standard_normal(g * d).astype(np.float32)
    beta = rng.standard_normal(g * d).astype(np.float32)
    op = CreateOperator("GroupNorm", ["X", "gamma", "beta"], ["Y", "mean", "inv_std"],
                        group=g, epsilon=epsilon, order=order)
    testing.check_reference(op, [x, gamma, beta],
                            lambda *a: naive_group_norm(*a, g, epsilon, order), atol=1e-4)


def test_one_output_and_float64():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 3))
    gamma, beta = np.arange(1.0, 5.0), np.arange(4.0)
    op = CreateOperator("GroupNorm", ["X", "gamma", "beta"], ["Y"], group=2)
    got = testing.check_reference(op, [x, gamma, beta],
                                  lambda *a: naive_group_norm(*a, 2, 1e-5, "NCHW")[:1],
                                  atol=1e-12)
    assert got[0].dtype == np.float64


def test_num_groups_is_ignored_as_in_caffe2():
    x = np.arange(8, dtype=np.float32).reshape(1, 4, 2)
    ones, zeros = np.ones(4, np.float32), np.zeros(4, np.float32)
    op = CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m", "s"], group=4, num_groups=1)
    got = testing.check_reference(op, [x, ones, zeros],
                                  lambda *a: naive_group_norm(*a, 4, 1e-5, "NCHW"))
    assert got[1].shape == (1, 4)


def test_empty_batch():
    x = np.zeros((0, 4, 2, 2), np.float32)
    op = CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m", "s"], group=2)
    testing.check_reference(
        op, [x, np.ones(4, np.float32), np.zeros(4, np.float32)],
        lambda *a: [x, np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)])


def test_images_without_positions_as_caffe2s_moments_of_nothing():
    x = np.zeros((2, 4, 0, 3), np.float32)
    op = CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m", "s"], group=2, epsilon=0.25)
    testing.check_reference(op, [x, np.ones(4, np.float32), np.zeros(4, np.float32)],
                            lambda *_: [x, np.zeros((2, 2), np.float32),
                                        np.full((2, 2), 2, np.float32)])


def test_shape_function():
    f4 = np.dtype(np.float32)
    op = CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m", "s"], group=3)
    x = TensorShape((2, 6, 4, 4), f4)
    assert infer_op(op, [x, TensorShape((6,), f4), TensorShape((6,), f4)]) == [
        x, TensorShape((2, 3), f4), TensorShape((2, 3), f4)]
    assert infer_op(op, [TensorShape(("n", 6, "h", "w"), f4), TensorShape(), TensorShape()])[1] \
        == TensorShape(("n", 3), f4)


def test_errors():
    x = np.zeros((1, 6, 2), np.float32)
    six = np.ones(6, np.float32)
    op = CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m", "s"], group=4)
    testing.check_raises(op, [x, six, six], ShapeError, re.escape("C % group_ == 0. 2 vs 0"))
    op = CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m", "s"], group=2)
    testing.check_raises(op, [x, np.ones(5, np.float32), six], ShapeError,
                         re.escape("gamma.numel() == C. 5 vs 6"))
    testing.check_raises(op, [x, six, np.ones(6)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    testing.check_raises(op, [x.astype(np.int32), six, six], DTypeError, "")
    testing.check_raises(op, [np.zeros(6, np.float32), six, six], ShapeError, "dim")
    testing.check_raises(op, [np.zeros((1, 0, 3), np.float32), six[:0], six[:0]], ShapeError,
                         "at least one channel")
    testing.check_raises(CreateOperator("GroupNorm", ["X", "g", "b"], ["Y", "m"], group=2),
                         [x, six, six], SchemaError, "Output size 2 not in allowed output sizes")
    testing.check_raises(CreateOperator("GroupNorm", ["X", "g", "b"], ["Y"], group=2, is_test=0),
                         [x, six, six], SchemaError, re.escape("OutputSize() == 3"))
    testing.check_raises(CreateOperator("GroupNorm", ["X", "g", "b"], ["Y"], group=0),
                         [x, six, six], ArgumentError, "group must be positive")
    testing.check_raises(CreateOperator("GroupNorm", ["X", "g", "b"], ["Y"], order="NWHC"),
                         [x, six, six], ArgumentError, 'order should be either "NCHW" or "NHWC".')
    grad = CreateOperator("GroupNormGradient", ["dY", "X", "g", "b", "m", "s"],
                          ["dX", "dg", "db"], group=2)
    stats = np.ones((1, 2), np.float32)
    testing.check_raises(grad, [np.zeros((1, 6, 3), np.float32), x, six, six, stats, stats],
                         ShapeError, re.escape("dY.sizes() == X.sizes()"))
    testing.check_raises(grad, [x, x, six, six, np.ones(3, np.float32), stats],
                         ShapeError, re.escape("mean.numel() == N * G. 3 vs 2"))


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_gradient_op_matches_chain_rule_loop(order):
    rng = np.random.default_rng(3)
    x = _image(rng, 2, 4, (2, 3), order).astype(np.float64)
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    dy = rng.standard_normal(x.shape)
    _, mean, rstd = naive_group_norm(x, gamma, beta, 2, 1e-5, order)
    op = CreateOperator("GroupNormGradient", ["dY", "X", "g", "b", "m", "s"],
                        ["dX", "dg", "db"], group=2, order=order)
    testing.check_reference(op, [dy, x, gamma, beta, mean, rstd],
                            lambda *_: naive_group_norm_gradient(dy, x, gamma, mean, rstd, 2,
                                                                 order), atol=1e-9)


@pytest.mark.parametrize("order", ["NCHW", "NHWC"])
def test_numeric_gradients(order):
    # Caffe2's test_group_norm_grad: X a shuffled arange, gradients of X, gamma, beta via Y
    rng = np.random.default_rng(4)
    x = np.arange(2 * 4 * 2 * 3, dtype=np.float64)
    rng.shuffle(x)
    x = x.reshape((2, 4, 2, 3) if order == "NCHW" else (2, 2, 3, 4)) / 10
    op = CreateOperator("GroupNorm", ["X", "gamma", "beta"], ["Y", "mean", "inv_std"],
                        group=2, order=order)
    testing.check_gradient(op, [x, rng.standard_normal(4), rng.standard_normal(4)], [0, 1, 2],
                           outputs=[0], atol=1e-4)


def test_gradient_op_list():
    op = CreateOperator("GroupNorm", ["X", "gamma", "beta"], ["Y", "mean", "inv_std"], group=2)
    grads, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert [(g.type, list(g.input), list(g.output)) for g in grads] == [
        ("GroupNormGradient", ["Y_grad", "X", "gamma", "beta", "mean", "inv_std"],
         ["X_grad", "gamma_grad", "beta_grad"])]
    assert {a.name for a in grads[0].arg} == {"group"}
