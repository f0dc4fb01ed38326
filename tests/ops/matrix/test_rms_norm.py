from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, ShapeError


def naive_rms_norm(x, gamma, beta, axis=1, eps=0.0):
    ax = axis % x.ndim
    m, n = int(np.prod(x.shape[:ax])), int(np.prod(x.shape[ax:]))
    flat, g, b = x.reshape(-1).tolist(), gamma.reshape(-1).tolist(), beta.reshape(-1).tolist()
    ys, rs = [], []
    for i in range(m):
        row = flat[i * n:(i + 1) * n]
        r = 1 / math.sqrt(sum(v * v for v in row) / n + eps)
        ys.extend(r * v * g[j] + b[j] for j, v in enumerate(row))
        rs.append(r)
    return [np.array(ys, x.dtype).reshape(x.shape), np.array(rs, x.dtype).reshape(x.shape[:ax])]


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), data=st.data(),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, data, dtype, seed):
    # rms_norm_op_test.py: test_rms_norm (axis, eps)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    eps = data.draw(st.sampled_from([0.0, 1e-6, 0.1]))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    inner = x.shape[axis % x.ndim:]
    g, b = rng.standard_normal(inner).astype(dtype), rng.standard_normal(inner).astype(dtype)
    op = CreateOperator("RMSNorm", ["X", "gamma", "beta"], ["Y", "rrms"], axis=axis, eps=eps)
    testing.check_reference(op, [x, g, b], lambda *v: naive_rms_norm(*v, axis=axis, eps=eps),
                            atol=1e-4, rtol=1e-4)


def test_errors():
    op = CreateOperator("RMSNorm", ["X", "gamma", "beta"], ["Y", "rrms"])
    f4 = np.float32
    testing.check_raises(op, [np.ones(3, f4), np.ones(3, f4), np.ones(3, f4)], ShapeError,
                         re.escape("X.dim() >= 2. 1 vs 2. RMSNorm requires input dim >= 2."))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones(2, f4), np.ones(3, f4)], ShapeError,
                         re.escape("gamma.numel() == N. 2 vs 3"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones(3, f4), np.ones(2, f4)], ShapeError,
                         re.escape("beta.numel() == N. 2 vs 3"))
    testing.check_raises(op, [np.ones((2, 3), f4), np.ones(3), np.ones(3, f4)], DTypeError,
                         "caller expects elements to be float while tensor contains double")


def test_empty_rows_gradient():
    grad = CreateOperator("RMSNormGradient", ["dY", "X", "gamma", "rrms"], ["dX", "dg", "db"])
    z = np.zeros((0, 3))
    testing.check_reference(grad, [z, z, np.ones(3), np.zeros(0)],
                            lambda *v: [z, np.zeros(3), np.zeros(3)])


@pytest.mark.parametrize("axis", [1, 2])
def test_numeric_gradient(axis):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3, 4))
    inner = x.shape[axis:]
    op = CreateOperator("RMSNorm", ["X", "gamma", "beta"], ["Y", "rrms"], axis=axis, eps=0.01)
    testing.check_gradient(op, [x, rng.standard_normal(inner), rng.standard_normal(inner)],
                           [0, 1, 2], outputs=[0], atol=1e-4)


def test_gradient_ops_list():
    op = CreateOperator("RMSNorm", ["X", "g", "b"], ["Y", "rrms"], axis=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("RMSNormGradient", ["Y_grad", "X", "g", "rrms"],
                          ["X_grad", "g_grad", "b_grad"], axis=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]


def test_backward_net_runs_without_undeclared_arguments():
    # The gradient maker copies RMSNorm's arguments (eps too) onto RMSNormGradient, as
    # Caffe2 did; the net must not warn nor be refused in strict mode, and the copied
    # eps does not change the gradient op's result.
    import warnings

    from caffe2lite import core, workspace
    from caffe2lite.errors import UnknownArgumentWarning

    net = core.Net("rms_backward")
    net.RMSNorm(["X", "gamma", "beta"], ["Y", "rrms"], eps=1e-3)
    net.AddGradientOperators(["Y"])
    grad_op = net.Proto().op[-1]
    assert grad_op.type == "RMSNormGradient"
    assert "eps" in [a.name for a in grad_op.arg]
    rng = np.random.default_rng(0)
    feeds = {"X": rng.standard_normal((2, 3)).astype(np.float32),
             "gamma": rng.standard_normal(3).astype(np.float32),
             "beta": rng.standard_normal(3).astype(np.float32)}
    workspace.ResetWorkspace()
    for name, value in feeds.items():
        workspace.FeedBlob(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnknownArgumentWarning)
            workspace.RunNetOnce(net)
        dx = workspace.FetchBlob("X_grad")
        workspace.SetStrict(True)
        workspace.RunNetOnce(net)
        ins = list(grad_op.input)
        outs = []
        for kw in ({}, {"eps": 0.5}):
            workspace.RunOperatorOnce(CreateOperator(
                "RMSNormGradient", ins, ["dX", "dg", "db"], **kw))
            outs.append(workspace.FetchBlob("dX"))
    finally:
        workspace.SetStrict(False)
        workspace.ResetWorkspace()
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], dx)
    assert len(ins) == 4
