from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support import sparse_update
from c2l_test_support.sparse_update import check_both, run_in_workspace
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, SchemaError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO

# The fixture (the compiled loops, then the numpy ones), bound here for pytest to find:
# assigned, not imported, so that the tests' ``loops`` parameters are no F811.
loops = sparse_update.loops

F = np.float32


def naive_sparse_momentum(grad, moment, lr, param, indices, momentum=0.0, nesterov=0):
    """Caffe2's loop: momentum_sgd_update on each named row, one index at a time."""
    g = grad.ravel()
    m, w = moment.ravel().copy(), param.ravel().copy()
    block = param.size // param.shape[0]
    rate, mu = F(lr.ravel()[0]), F(momentum)
    ng = np.empty_like(g)
    for i, row in enumerate(int(x) for x in indices.ravel()):
        for j in range(block):
            a, b = row * block + j, i * block + j
            if not nesterov:
                ng[b] = m[a] = F(F(rate * g[b]) + F(mu * m[a]))
            else:
                old = m[a]
                m[a] = F(F(mu * old) + F(rate * g[b]))
                ng[b] = F(F(F(1) + mu) * m[a]) - F(mu * old)
            w[a] = F(w[a] - ng[b])
    return [ng.reshape(grad.shape), m.reshape(moment.shape), w.reshape(param.shape)]


NAMES = ["grad", "m", "lr", "param", "indices"]


# Caffe2's momentum_sgd_test (test_sparse_momentum_sgd): random tables, repeated
# indices, nesterov on and off, int32 and int64 indices.
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 5), inner=st.lists(st.integers(1, 3), max_size=2),
       k=st.integers(0, 6), momentum=st.floats(0.0, 0.99), nesterov=st.booleans(),
       index_type=st.sampled_from([np.int32, np.int64]), seed=st.integers(0, 2**16))
def test_matches_loop(rows, inner, k, momentum, nesterov, index_type, seed):
    rng = np.random.default_rng(seed)
    moment, param = (rng.standard_normal([rows] + inner).astype(F) for _ in range(2))
    grad = rng.standard_normal([k] + inner).astype(F)
    indices = rng.integers(0, rows, k).astype(index_type)
    lr = np.array([rng.uniform(0, 1)], F)
    op = CreateOperator("SparseMomentumSGDUpdate", NAMES, ["grad", "m", "param"],
                        momentum=momentum, nesterov=int(nesterov))
    check_both(op, [grad, moment, lr, param, indices],
               lambda *a: naive_sparse_momentum(*a, momentum, int(nesterov)),
               atol=0, rtol=0)


OP = CreateOperator("SparseMomentumSGDUpdate", NAMES, ["g_out", "m", "param"])


@pytest.mark.parametrize("nesterov", [0, 1])
def test_writes_rows_in_place(loops, nesterov):
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((200, 3)).astype(F),
              rng.standard_normal((30, 3)).astype(F), np.array([0.1], F),
              rng.standard_normal((30, 3)).astype(F),
              rng.zipf(1.3, 200) % 30]  # one row named many times
    op = CreateOperator("SparseMomentumSGDUpdate", NAMES, ["grad", "m", "param"],
                        momentum=0.9, nesterov=nesterov)
    ws = run_in_workspace(op, inputs, ["m", "param"])
    want = naive_sparse_momentum(*inputs, 0.9, nesterov)
    for name, value in zip(["grad", "m", "param"], want):
        assert ws._blobs[name].tobytes() == value.tobytes(), name


def test_kernel_called_alone_never_writes_its_inputs(loops):
    kernel = registry.lookup("SparseMomentumSGDUpdate").kernel
    g, m, p = np.ones((1, 2), F), np.zeros((3, 2), F), np.zeros((3, 2), F)
    out = kernel(g, m, np.array([1.0], F), p, np.array([2]), momentum=0.0, nesterov=0)
    assert not p.any() and not m.any() and out[2].tolist() == [[0, 0], [0, 0], [-1, -1]]


def _inputs(**over):
    base = {"grad": np.ones((2, 2), F), "m": np.ones((3, 2), F), "lr": np.ones(1, F),
                "param": np.ones((3, 2), F), "indices": np.array([0, 2])}
    base.update(over)
    return list(base.values())


@pytest.mark.parametrize("over, error, match", [
    ({"lr": np.ones(2, F)}, ShapeError, r"Input\(LR\)\.numel\(\) == 1\. 2 vs 1"),
    ({"m": np.ones(5, F)}, ShapeError, r"Input\(PARAM\)\.numel\(\) == Input\(MOMENTUM\)"),
    ({"grad": np.ones((2, 3), F)}, ShapeError, r"size_from_dim\(1\) == .* 2 vs 3"),
    ({"indices": np.array([0, 3])}, ShapeError,
     r"offsetIdx \+ block_size <= Input\(PARAM\)\.size\(\) \(blob"),
    ({"indices": np.array([0.0, 1.0])}, DTypeError, "Unsupported type of tensor: double"),
])
def test_errors(loops, over, error, match):
    testing.check_raises(OP, _inputs(**over), error, match)


def test_schema():
    op = CreateOperator("SparseMomentumSGDUpdate", NAMES, ["g", "m2", "param"])
    testing.check_raises(op, _inputs(), SchemaError, "are not in-place but should be")


def test_gradient_is_should_not_do():
    assert GRADIENTS["SparseMomentumSGDUpdate"].kind == SHOULD_NOT_DO


def test_empty_indices_change_nothing():
    p = np.arange(6, dtype=F).reshape(3, 2)
    inputs = [np.zeros((0, 2), F), p, np.ones(1, F), p, np.zeros(0, np.int32)]
    testing.check_reference(OP, inputs, lambda *a: [np.zeros((0, 2), F), p, p],
                            atol=0, rtol=0)


def test_empty_rows_are_an_error():
    # Caffe2 divided by param.numel() / param.dim(0) == 0
    empty = np.zeros((3, 0), F)
    testing.check_raises(OP, _inputs(param=empty, m=empty, grad=np.zeros((2, 0), F)),
                         ShapeError, "param must have at least one row of at least one")
