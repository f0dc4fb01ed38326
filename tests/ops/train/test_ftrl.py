from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, DTypeError, ShapeError
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO

F = np.float32


def naive_ftrl(var, n_z, grad, *alpha_in, alpha=0.005, beta=1.0, lambda1=0.001,
               lambda2=0.001):
    """Caffe2's ftrl_compute loop, one element at a time, in float."""
    alpha_inv = F(1.0 / float(alpha_in[0].ravel()[0] if alpha_in else F(alpha)))
    w, nz, g = var.ravel().copy(), n_z.reshape(-1, 2).copy(), grad.ravel()
    for i in range(w.size):
        n, z = nz[i]
        new_n = F(n + F(g[i] * g[i]))
        sigma = F(F(F(math.sqrt(new_n)) - F(math.sqrt(n))) * alpha_inv)
        new_z = F(F(z + g[i]) - F(sigma * w[i]))
        nz[i] = (new_n, new_z)
        if abs(new_z) > F(lambda1):
            sign = F(0 if new_z == 0 else (-1 if new_z < 0 else 1))
            w[i] = F(F(F(lambda1) * sign) - new_z) / F(
                F(F(F(beta) + F(math.sqrt(new_n))) * alpha_inv) + F(lambda2))
        else:
            w[i] = F(0)
    return [w.reshape(var.shape), nz.reshape(n_z.shape)]


# Caffe2's ftrl_test (test_ftrl_sgd): random var, (n, z) pairs and grad, random
# hyper-parameters; and the variant with alpha given as an input.
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       alpha=st.floats(0.01, 0.1), beta=st.floats(0.1, 0.9),
       lambda1=st.floats(0.001, 0.1), lambda2=st.floats(0.001, 0.1),
       alpha_as_input=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_loop(shape, alpha, beta, lambda1, lambda2, alpha_as_input, seed):
    rng = np.random.default_rng(seed)
    var, grad = (rng.standard_normal(shape).astype(F) for _ in range(2))
    n_z = np.stack([np.abs(rng.standard_normal(shape)), rng.standard_normal(shape)],
                   axis=-1).astype(F)
    kw = {"beta": beta, "lambda1": lambda1, "lambda2": lambda2}
    if alpha_as_input:
        op = CreateOperator("Ftrl", ["var", "nz", "grad", "alpha"], ["var", "nz"], **kw)
        inputs = [var, n_z, grad, np.array([alpha], F)]
    else:
        op = CreateOperator("Ftrl", ["var", "nz", "grad"], ["var", "nz"], alpha=alpha, **kw)
        inputs = [var, n_z, grad]
    testing.check_reference(op, inputs, lambda *a: naive_ftrl(*a, alpha=alpha, **kw),
                            atol=0, rtol=0)


OP = CreateOperator("Ftrl", ["var", "nz", "grad"], ["var", "nz"])


def test_small_z_gives_zero_weight():
    got = testing.check_reference(
        OP, [np.zeros(2, F), np.zeros((2, 2), F), np.array([1e-4, 0], F)], naive_ftrl)
    np.testing.assert_array_equal(got[0], [0, 0])


@pytest.mark.parametrize("inputs, error, match", [
    ([np.ones(3, F), np.ones((3, 2), F), np.ones(2, F)], ShapeError,
     r"Input\(GRAD\)\.numel\(\) == Input\(VAR\)\.numel\(\)\. 2 vs 3"),
    ([np.ones(3, F), np.ones(3, F), np.ones(3, F)], ShapeError,
     r"Input\(GRAD\)\.numel\(\) \* 2 == Input\(N_Z\)\.numel\(\)\. 6 vs 3"),
    ([np.ones(3), np.ones((3, 2), F), np.ones(3, F)], DTypeError,
     "expects elements to be float while tensor contains double"),
])
def test_errors(inputs, error, match):
    testing.check_raises(OP, inputs, error, match)


def test_alpha_input_errors():
    op = CreateOperator("Ftrl", ["var", "nz", "grad", "alpha"], ["var", "nz"])
    inputs = [np.ones(3, F), np.ones((3, 2), F), np.ones(3, F), np.ones(2, F)]
    testing.check_raises(op, inputs, ShapeError, "alpha should be real-valued")
    both = CreateOperator("Ftrl", ["var", "nz", "grad", "alpha"], ["var", "nz"], alpha=0.1)
    testing.check_raises(both, inputs[:3] + [np.ones(1, F)], ArgumentError,
                         "Cannot specify alpha by both input and argument")


def test_gradient_is_should_not_do():
    assert GRADIENTS["Ftrl"].kind == SHOULD_NOT_DO
