from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.schema.shapes import TensorShape

F = np.float32


def correction(beta1, beta2, t):
    b1, b2 = float(F(beta1)), float(F(beta2))
    return F(math.sqrt(1.0 - math.pow(b2, t)) / (1.0 - math.pow(b1, t)))


def naive_adam(param, m1, m2, grad, lr, it, beta1=0.9, beta2=0.999, epsilon=1e-5,
               outputs=3):
    """Caffe2's adam_compute loop, element by element in float32."""
    c = correction(beta1, beta2, int(it.ravel()[0]) + 1)
    b1, b2, eps, rate = F(beta1), F(beta2), F(epsilon), F(lr.ravel()[0])
    w, m, v, g = (a.ravel().copy() for a in (param, m1, m2, grad))
    ng = np.empty_like(g)
    for i in range(g.size):
        m[i] = F(m[i] * b1 + g[i] * F(F(1) - b1))
        v[i] = F(v[i] * b2 + F(g[i] * g[i]) * F(F(1) - b2))
        denom = F(np.sqrt(v[i]) + eps)
        if outputs == 4:
            ng[i] = F(F(c * m[i]) / denom)
            w[i] = F(w[i] + rate * ng[i])
        else:
            w[i] = F(w[i] + F(F(rate * c) * m[i]) / denom)
    out = [w.reshape(param.shape), m.reshape(m1.shape), v.reshape(m2.shape),
           ng.reshape(grad.shape)]
    return out[:outputs]


INPUTS = ["param", "m1", "m2", "grad", "lr", "iter"]


def _op(outputs=3, **kw):
    return CreateOperator("Adam", INPUTS, ["param", "m1", "m2", "out_grad"][:outputs], **kw)


# Caffe2's adam_test (test_adam, test_adam_output_grad): random state, lr, iteration,
# betas and epsilon; with and without the effective-gradient output.
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       outputs=st.sampled_from([3, 4]), it=st.integers(0, 1000),
       beta1=st.floats(0.1, 0.95), beta2=st.floats(0.5, 0.9999), seed=st.integers(0, 2**16))
def test_matches_loop(shape, outputs, it, beta1, beta2, seed):
    rng = np.random.default_rng(seed)
    param, m1, grad = (rng.standard_normal(shape).astype(F) for _ in range(3))
    m2 = np.abs(rng.standard_normal(shape)).astype(F)
    lr = np.array([rng.uniform(-0.1, 0.1)], F)
    kw = {"beta1": beta1, "beta2": beta2, "epsilon": 1e-5}
    testing.check_reference(
        _op(outputs, **kw), [param, m1, m2, grad, lr, np.array([it], np.int64)],
        lambda *a: naive_adam(*a, outputs=outputs, **kw), atol=0, rtol=0)


def test_first_step_from_zero_state_is_lr_times_sign():
    # t = 1: correction = sqrt(1 - b2) / (1 - b1), so the step is lr * g / |g| (eps small).
    g = np.array([0.5, -2.0], F)
    got = testing.check_reference(
        _op(), [np.zeros(2, F), np.zeros(2, F), np.zeros(2, F), g, np.array([-0.1], F),
                np.zeros(1, np.int64)], naive_adam)
    np.testing.assert_allclose(got[0], [-0.1, 0.1], rtol=1e-3)


def _inputs(**over):
    base = {"param": np.ones(3, F), "m1": np.ones(3, F), "m2": np.ones(3, F),
                "grad": np.ones(3, F), "lr": np.ones(1, F), "it": np.zeros(1, np.int64)}
    base.update(over)
    return list(base.values())


@pytest.mark.parametrize("over, error, match", [
    ({"lr": np.ones(2, F)}, ShapeError, r"Input\(LR\)\.numel\(\) == 1 \(blob"),
    ({"grad": np.ones(4, F)}, ShapeError, r"Input\(GRAD\)\.numel\(\) == Input\(PARAM\)"),
    ({"m1": np.ones(4, F)}, ShapeError, r"Input\(GRAD\)\.numel\(\) == Input\(MOMENT_1\)"),
    ({"m2": np.ones(2, F)}, ShapeError, r"Input\(GRAD\)\.numel\(\) == Input\(MOMENT_2\)"),
    ({"it": np.zeros(1, np.int32)}, DTypeError,
     "caller expects elements to be long while tensor contains int"),
    ({"param": np.ones(3)}, DTypeError, ("expects elements to be float while tensor "
     "contains double")),
])
def test_errors(over, error, match):
    testing.check_raises(_op(), _inputs(**over), error, match)


def test_schema_and_shapes():
    op = CreateOperator("Adam", INPUTS, ["param", "grad", "m2"])
    testing.check_raises(op, _inputs(), SchemaError, "are set to be in-place")
    s = TensorShape((2, 3), F)
    outs = infer_op(_op(4), [s, s, s, s, TensorShape((1,), F), TensorShape((1,), np.int64)])
    assert [o.dims for o in outs] == [(2, 3)] * 4


def test_gradient_is_should_not_do():
    assert GRADIENTS["Adam"].kind == SHOULD_NOT_DO


@pytest.mark.parametrize("outputs", [3, 4])
def test_negative_second_moment_gives_nan_without_warnings(outputs):
    # Caffe2's adam_test feeds moment_2 drawn from [-1, 1]: the square root of a negative
    # second moment is NaN in C float arithmetic, silently; numpy must not warn either.
    import warnings

    from caffe2lite import workspace

    names = ["output_param", "output_mom1", "output_mom2", "output_grad"][:outputs]
    op = CreateOperator("Adam", ["param", "mom1", "mom2", "grad", "lr", "iter"], names,
                        beta1=0.9, beta2=0.5, epsilon=1e-8)
    feeds = {"param": np.ones(2, np.float32), "mom1": np.zeros(2, np.float32),
             "mom2": np.array([-4.0, 1.0], np.float32), "grad": np.zeros(2, np.float32),
             "lr": np.array([0.1], np.float32), "iter": np.array([0], np.int64)}
    workspace.ResetWorkspace()
    for name, value in feeds.items():
        workspace.FeedBlob(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            workspace.RunOperatorOnce(op)
        out = workspace.FetchBlob("output_param")
    finally:
        workspace.ResetWorkspace()
    assert np.isnan(out[0]) and out[1] == 1.0
