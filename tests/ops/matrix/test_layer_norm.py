from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, SchemaError, ShapeError


def naive_layer_norm(x, gamma=None, beta=None, axis=1, eps=1e-5):
    ax = axis % x.ndim
    m, n = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax:]))
    flat = x.reshape(-1).tolist()
    ys, means, stds = [], [], []
    for i in range(m):
        row = flat[i * n:(i + 1) * n]
        mu = sum(row) / n
        var = sum((v - mu) ** 2 for v in row) / n
        sd = math.sqrt(var + eps)
        for j, v in enumerate(row):
            y = (v - mu) / sd
            if gamma is not None:
                y = y * gamma.reshape(-1)[j] + beta.reshape(-1)[j]
            ys.append(y)
        means.append(mu)
        stds.append(sd)
    stat_shape = x.shape[:ax] + (1,)
    return [np.array(ys, x.dtype).reshape(x.shape), np.array(means, x.dtype).reshape(stat_shape),
            np.array(stds, x.dtype).reshape(stat_shape)]


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), data=st.data(),
       affine=st.booleans(), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, data, affine, dtype, seed):
    # layer_norm_op_test.py: test_layer_norm_op (axis, epsilon, elementwise_affine)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    eps = data.draw(st.sampled_from([1e-5, 1e-3, 0.1]))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    inner = x.shape[axis % x.ndim:]
    inputs = [x]
    if affine:
        inputs += [rng.standard_normal(inner).astype(dtype),
                   rng.standard_normal(inner).astype(dtype)]
    op = CreateOperator("LayerNorm", ["X", "gamma", "beta"][:len(inputs)], ["Y", "mean", "std"],
                        axis=axis, epsilon=eps, elementwise_affine=affine)
    testing.check_reference(
        op, inputs, lambda x, *gb: naive_layer_norm(x, *gb, axis=axis, eps=eps), atol=1e-4,
        rtol=1e-4)


def test_empty_rows():
    op = CreateOperator("LayerNorm", ["X"], ["Y", "mean", "std"])
    y, mean, std = testing.check_reference(
        op, [np.zeros((0, 3), np.float32)],
        lambda x: [np.zeros((0, 3), np.float32), np.zeros((0, 1), np.float32),
                   np.zeros((0, 1), np.float32)])
    grad = CreateOperator("LayerNormGradient", ["dY", "Y", "mean", "std", "X", "gamma"],
                          ["dX", "dgamma", "dbeta"], elementwise_affine=1)
    z = np.zeros((0, 3), np.float32)
    testing.check_reference(grad, [z, z, mean, std, z, np.ones(3, np.float32)],
                            lambda *v: [z, np.zeros(3, np.float32), np.zeros(3, np.float32)])


def test_errors():
    op = CreateOperator("LayerNorm", ["X"], ["Y", "mean", "std"])
    testing.check_raises(op, [np.ones(3, np.float32)], ShapeError,
                         re.escape("X.dim() >= 2. 1 vs 2. LayerNorm requires input dim >= 2."))
    testing.check_raises(op, [np.ones((2, 3), np.int32)], DTypeError, "tensor contains int")
    affine = CreateOperator("LayerNorm", ["X", "g", "b"], ["Y", "mean", "std"],
                            elementwise_affine=1)
    f4 = np.float32
    testing.check_raises(affine, [np.ones((2, 3), f4), np.ones(2, f4), np.ones(3, f4)], ShapeError,
                         re.escape("gamma.numel() == N. 2 vs 3"))
    testing.check_raises(affine, [np.ones((2, 3), f4), np.ones(3, f4), np.ones(4, f4)], ShapeError,
                         re.escape("beta.numel() == N. 4 vs 3"))
    one = CreateOperator("LayerNorm", ["X"], ["Y", "mean", "std"], elementwise_affine=1)
    testing.check_raises(one, [np.ones((2, 3), f4)], ShapeError,
                         re.escape("InputSize() == 3. 1 vs 3"))
    two = CreateOperator("LayerNorm", ["X", "g"], ["Y", "mean", "std"])
    with pytest.raises(SchemaError, match="Input size 2 not in allowed input sizes"):
        testing.check_reference(two, [np.ones((2, 3)), np.ones(3)], lambda *v: v)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("axis", [1, 2, -1])
def test_numeric_gradient(affine, axis):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4))
    inner = x.shape[axis % 3:]
    inputs = [x] + ([rng.standard_normal(inner), rng.standard_normal(inner)] if affine else [])
    op = CreateOperator("LayerNorm", ["X", "gamma", "beta"][:len(inputs)], ["Y", "mean", "std"],
                        axis=axis, elementwise_affine=affine)
    testing.check_gradient(op, inputs, list(range(len(inputs))), outputs=[0], atol=1e-4)


def test_gradient_ops_list():
    op = CreateOperator("LayerNorm", ["X"], ["Y", "mean", "std"], axis=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("LayerNormGradient", ["Y_grad", "Y", "mean", "std", "X"], ["X_grad"],
                          axis=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    op = CreateOperator("LayerNorm", ["X", "g", "b"], ["Y", "mean", "std"], elementwise_affine=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("LayerNormGradient", ["Y_grad", "Y", "mean", "std", "X", "g"],
                          ["X_grad", "g_grad", "b_grad"], elementwise_affine=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


@pytest.mark.parametrize("affine", [False, True])
def test_backward_net_runs_without_undeclared_arguments(affine):
    # The gradient maker copies LayerNorm's arguments (epsilon too) onto
    # LayerNormGradient, as Caffe2 did; Caffe2's own test also creates
    # LayerNormGradient with epsilon. The net must not warn nor be refused in strict mode.
    import warnings

    from caffe2lite import core, workspace
    from caffe2lite.errors import UnknownArgumentWarning

    net = core.Net("ln_backward")
    ins = ["X", "gamma", "beta"] if affine else ["X"]
    net.LayerNorm(ins, ["Y", "mean", "std"], axis=1, epsilon=1e-3,
                  elementwise_affine=affine)
    net.AddGradientOperators(["Y"])
    grad_op = net.Proto().op[-1]
    assert grad_op.type == "LayerNormGradient"
    assert "epsilon" in [a.name for a in grad_op.arg]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    workspace.ResetWorkspace()
    workspace.FeedBlob("X", x)
    workspace.FeedBlob("gamma", np.ones(3, np.float32))
    workspace.FeedBlob("beta", np.zeros(3, np.float32))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownArgumentWarning)
            workspace.RunNetOnce(net)
        dx = workspace.FetchBlob("X_grad")
        workspace.SetStrict(True)
        workspace.RunNetOnce(net)
    finally:
        workspace.SetStrict(False)
        workspace.ResetWorkspace()
    # Y_grad is all ones and the rows are normalised: dX sums to 0 per row
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-5)


def test_gradient_op_ignores_epsilon():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    mean = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + 1e-5).astype(np.float32)
    y = ((x - mean) / std).astype(np.float32)
    dy = rng.standard_normal((3, 4)).astype(np.float32)
    ins = [dy, y, mean.astype(np.float32), std, x]
    from caffe2lite import workspace
    outs = []
    for kw in ({}, {"epsilon": 0.5}):
        workspace.ResetWorkspace()
        for name, value in zip(["dY", "Y", "mean", "sigma", "X"], ins):
            workspace.FeedBlob(name, value)
        workspace.RunOperatorOnce(CreateOperator(
            "LayerNormGradient", ["dY", "Y", "mean", "sigma", "X"], ["dX"], **kw))
        outs.append(workspace.FetchBlob("dX"))
    workspace.ResetWorkspace()
    np.testing.assert_array_equal(outs[0], outs[1])
