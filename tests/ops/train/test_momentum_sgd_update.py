from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import NetCompileError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.schema.shapes import TensorShape

F = np.float32


def naive_momentum(grad, moment, lr, momentum=0.0, nesterov=0):
    """Caffe2's momentum_sgd_update loop, one element at a time."""
    ng, nm = [], []
    rate, mu = F(lr.ravel()[0]), F(momentum)
    for g, m in zip(grad.ravel(), moment.ravel()):
        if not nesterov:
            ng.append(F(F(rate * g) + F(mu * m)))
            nm.append(ng[-1])
        else:
            nm.append(F(F(mu * m) + F(rate * g)))
            ng.append(F(F(F(1) + mu) * nm[-1]) - F(mu * m))
    return [np.array(ng, F).reshape(grad.shape), np.array(nm, F).reshape(moment.shape)]


def naive_update(grad, moment, lr, param, momentum=0.0, nesterov=0):
    ng, nm = naive_momentum(grad, moment, lr, momentum, nesterov)
    w = param.ravel().copy()
    for i in range(w.size):
        w[i] = F(w[i] - ng.ravel()[i])
    return [ng, nm, w.reshape(param.shape)]


NAMES = ["grad", "m", "lr", "param"]


# Caffe2's momentum_sgd_test (test_momentum_sgd with the update op): the
# parameter moves by the adjusted gradient.
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=2),
       momentum=st.floats(0.0, 0.99), nesterov=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_loop(shape, momentum, nesterov, seed):
    rng = np.random.default_rng(seed)
    grad, moment, param = (rng.standard_normal(shape).astype(F) for _ in range(3))
    lr = np.array([rng.uniform(0, 1)], F)
    op = CreateOperator("MomentumSGDUpdate", NAMES, ["grad", "m", "param"],
                        momentum=momentum, nesterov=int(nesterov))
    testing.check_reference(op, [grad, moment, lr, param],
                            lambda *a: naive_update(*a, momentum, int(nesterov)),
                            atol=0, rtol=0)


OP = CreateOperator("MomentumSGDUpdate", NAMES, ["grad", "m", "param"])


@pytest.mark.parametrize("inputs, error, match", [
    ([np.ones(3, F), np.ones(2, F), np.ones(1, F), np.ones(3, F)], ShapeError,
     r"Input\(GRAD\)\.numel\(\) == Input\(MOMENTUM\)\.numel\(\)\. 3 vs 2"),
    ([np.ones(3, F), np.ones(3, F), np.ones(2, F), np.ones(3, F)], ShapeError,
     r"Input\(LR\)\.numel\(\) == 1\. 2 vs 1"),
    ([np.ones(3, F), np.ones(3, F), np.ones(1, F), np.ones(2, F)], ShapeError,
     r"Input\(PARAM\)\.numel\(\) == Input\(GRAD\)\.numel\(\)\. 2 vs 3"),
])
def test_errors(inputs, error, match):
    testing.check_raises(OP, inputs, error, match)


def test_schema_and_shapes():
    bad = CreateOperator("MomentumSGDUpdate", NAMES, ["grad", "param", "m"])
    testing.check_raises(bad, [np.ones(1, F)] * 4, NetCompileError,
                         r"Input index 1 and output idx 2 \(m\) are set to be in-place")
    s = TensorShape((2, 2), F)
    outs = infer_op(OP, [s, s, TensorShape((1,), F), TensorShape((4,), F)])
    assert [o.dims for o in outs] == [(2, 2), (2, 2), (4,)]


def test_gradient_is_should_not_do():
    assert GRADIENTS["MomentumSGDUpdate"].kind == SHOULD_NOT_DO
