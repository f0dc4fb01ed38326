from __future__ import annotations

import math

import numpy as np
import pytest
from c2l_test_support import sparse_update
from c2l_test_support.sparse_update import check_both, run_in_workspace
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO

# The fixture (the compiled loops, then the numpy ones), bound here for pytest to find:
# assigned, not imported, so that the tests' ``loops`` parameters are no F811.
loops = sparse_update.loops

F = np.float32


def naive_ftrl(var, n_z, grad, *alpha_in, alpha, beta, lambda1, lambda2):
    """Caffe2's ftrl_compute, one element at a time, in float."""
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


def naive_sparse_ftrl(var, n_z, indices, grad, *alpha_in, alpha=0.005, beta=1.0,
                      lambda1=0.001, lambda2=0.001):
    """Caffe2's SparseFtrl loop: each index in turn runs the dense step on its row."""
    w, nz = var.copy(), n_z.copy()
    block = var.size // var.shape[0]
    w2, nz2 = w.reshape(var.shape[0], block), nz.reshape(var.shape[0], block, 2)
    g = grad.reshape(-1, block) if block else grad
    for i, row in enumerate(int(x) for x in indices.ravel()):
        new_w, new_nz = naive_ftrl(w2[row], nz2[row], g[i], *alpha_in, alpha=alpha,
                                   beta=beta, lambda1=lambda1, lambda2=lambda2)
        w2[row], nz2[row] = new_w, new_nz
    return [w, nz]


NAMES = ["var", "nz", "indices", "grad"]
OP = CreateOperator("SparseFtrl", NAMES, ["var", "nz"])


# Caffe2's ftrl_test (test_sparse_ftrl_sgd): random tables, repeated indices, both
# index types, alpha as an argument or as an input.
@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 5), inner=st.lists(st.integers(1, 3), max_size=1),
       k=st.integers(0, 6), alpha_as_input=st.booleans(),
       index_type=st.sampled_from([np.int32, np.int64]), seed=st.integers(0, 2**16))
def test_matches_loop(rows, inner, k, alpha_as_input, index_type, seed):
    rng = np.random.default_rng(seed)
    var = rng.standard_normal([rows] + inner).astype(F)
    n_z = np.stack([np.abs(rng.standard_normal([rows] + inner)),
                    rng.standard_normal([rows] + inner)], axis=-1).astype(F)
    indices = rng.integers(0, rows, k).astype(index_type)
    grad = rng.standard_normal([k] + inner).astype(F)
    kw = {"beta": 0.5, "lambda1": 0.01, "lambda2": 0.02}
    if alpha_as_input:
        op = CreateOperator("SparseFtrl", NAMES + ["alpha"], ["var", "nz"], **kw)
        inputs = [var, n_z, indices, grad, np.array([0.05], F)]
    else:
        op = CreateOperator("SparseFtrl", NAMES, ["var", "nz"], alpha=0.05, **kw)
        inputs = [var, n_z, indices, grad]
    check_both(op, inputs,
               lambda *a: naive_sparse_ftrl(*a, alpha=0.05, **kw),
               atol=0, rtol=0)


@pytest.mark.parametrize("lambda1", [0.01, -0.2])
def test_writes_rows_in_place(loops, lambda1):
    rng = np.random.default_rng(7)
    n_z = np.stack([np.abs(rng.standard_normal((30, 3))), rng.standard_normal((30, 3))],
                   axis=-1).astype(F)
    inputs = [rng.standard_normal((30, 3)).astype(F), n_z,
              rng.zipf(1.3, 200) % 30,  # one row named many times
              rng.standard_normal((200, 3)).astype(F)]
    kw = {"alpha": 0.05, "beta": 0.5, "lambda1": lambda1, "lambda2": 0.02}
    ws = run_in_workspace(CreateOperator("SparseFtrl", NAMES, ["var", "nz"], **kw), inputs,
                          ["var", "nz"])
    want = naive_sparse_ftrl(*inputs, **kw)
    assert ws._blobs["var"].tobytes() == want[0].tobytes()
    assert ws._blobs["nz"].tobytes() == want[1].tobytes()


def test_kernel_called_alone_never_writes_its_inputs(loops):
    kernel = registry.lookup("SparseFtrl").kernel
    var, nz = np.zeros((3, 1), F), np.zeros((3, 1, 2), F)
    out = kernel(var, nz, np.array([2]), np.full((1, 1), 2.0, F), alpha=1.0, beta=0.0,
                 lambda1=1.0, lambda2=0.0)
    assert not var.any() and not nz.any() and out[0].ravel().tolist() == [0, 0, -0.5]


def _inputs(**over):
    base = {"var": np.ones((3, 2), F), "nz": np.ones((3, 2, 2), F), "indices": np.array([0, 2]),
                "grad": np.ones((2, 2), F)}
    base.update(over)
    return list(base.values())


@pytest.mark.parametrize("over, error, match", [
    ({"indices": np.array([0.0, 1.0])}, DTypeError,
     "Unsupported type of INDICES in SparseFtrlOp: double"),
    ({"indices": np.array([0, 3])}, EnforceError, "Index out of bounds: 3, range 0 to 3"),
    ({"grad": np.ones((2, 3), F)}, ShapeError,
     r"grad\.numel\(\) == K \* block_size\. 6 vs 4"),
    ({"nz": np.ones((3, 2), F)}, ShapeError, r"M \* 2 == n_z->numel\(\)\. 12 vs 6"),
])
def test_errors(loops, over, error, match):
    testing.check_raises(OP, _inputs(**over), error, match)


def test_schema():
    op = CreateOperator("SparseFtrl", NAMES, ["var2", "nz"])
    testing.check_raises(op, _inputs(), SchemaError, "are not in-place but should be")


def test_gradient_is_should_not_do():
    assert GRADIENTS["SparseFtrl"].kind == SHOULD_NOT_DO
