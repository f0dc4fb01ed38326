from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, ShapeError
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO

F = np.float32


def naive_momentum(grad, moment, lr, momentum=0.0, nesterov=0):
    """Caffe2's momentum_sgd_update loop without a parameter."""
    g, m = grad.ravel(), moment.ravel()
    ng, nm = np.empty_like(g), np.empty_like(m)
    rate, mu = F(lr.ravel()[0]), F(momentum)
    for i in range(g.size):
        if not nesterov:
            ng[i] = nm[i] = F(F(rate * g[i]) + F(mu * m[i]))
        else:
            nm[i] = F(F(mu * m[i]) + F(rate * g[i]))
            ng[i] = F(F(F(1) + mu) * nm[i]) - F(mu * m[i])
    return [ng.reshape(grad.shape), nm.reshape(moment.shape)]


# Caffe2's momentum_sgd_test (test_momentum_sgd): random grad/momentum, lr, momentum,
# nesterov on and off.
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=2),
       momentum=st.floats(0.0, 0.99), nesterov=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_loop(shape, momentum, nesterov, seed):
    rng = np.random.default_rng(seed)
    grad, moment = (rng.standard_normal(shape).astype(F) for _ in range(2))
    lr = np.array([rng.uniform(0, 1)], F)
    op = CreateOperator("MomentumSGD", ["grad", "m", "lr"], ["grad", "m"],
                        momentum=momentum, nesterov=int(nesterov))
    testing.check_reference(op, [grad, moment, lr],
                            lambda *a: naive_momentum(*a, momentum, int(nesterov)),
                            atol=0, rtol=0)


OP = CreateOperator("MomentumSGD", ["grad", "m", "lr"], ["g2", "m2"])


def test_defaults_are_plain_sgd():
    got = testing.check_reference(OP, [np.array([1, 2], F), np.array([5, 5], F),
                                       np.array([0.5], F)], naive_momentum)
    np.testing.assert_array_equal(got[0], [0.5, 1.0])


@pytest.mark.parametrize("inputs, error, match", [
    ([np.ones(3, F), np.ones(2, F), np.ones(1, F)], ShapeError,
     r"Input\(GRAD\)\.numel\(\) == Input\(MOMENTUM\)\.numel\(\) \(blob"),
    ([np.ones(3, F), np.ones(3, F), np.ones(2, F)], ShapeError, r"Input\(LR\)\.numel\(\) == 1"),
    ([np.ones(3, np.int32), np.ones(3, F), np.ones(1, F)], DTypeError,
     "expects elements to be float while tensor contains int"),
])
def test_errors(inputs, error, match):
    testing.check_raises(OP, inputs, error, match)


def test_gradient_is_should_not_do():
    assert GRADIENTS["MomentumSGD"].kind == SHOULD_NOT_DO
