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
from caffe2lite.errors import EnforceError, SchemaError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO

# The fixture (the compiled loops, then the numpy ones), bound here for pytest to find:
# assigned, not imported, so that the tests' ``loops`` parameters are no F811.
loops = sparse_update.loops

F = np.float32


def naive_row_wise_adam(param, m1, m2, indices, grad, lr, it, beta1=0.9, beta2=0.999,
                        epsilon=1e-5, outputs=3):
    """Caffe2's RowWiseSparseAdam loop: per index, the row's mean squared gradient
    updates its one second-moment value."""
    t = int(it.ravel()[0]) + 1
    b1f, b2f = float(F(beta1)), float(F(beta2))
    c = math.sqrt(1.0 - b2f ** t) / (1.0 - b1f ** t)  # a double in Caffe2's loop
    b1, b2, eps, rate = F(beta1), F(beta2), F(epsilon), F(lr.ravel()[0])
    w, m, v = (a.ravel().copy() for a in (param, m1, m2))
    g = grad.ravel()
    block = param.size // param.shape[0]
    ng = np.empty_like(g)
    for i, row in enumerate(int(x) for x in indices.ravel()):
        total = F(0)
        for j in range(block):
            total = F(total + g[i * block + j] * g[i * block + j])
        v[row] = F(v[row] * b2 + F(total / F(block)) * F(F(1) - b2))
        for j in range(block):
            a, b = row * block + j, i * block + j
            m[a] = F(m[a] * b1 + g[b] * F(F(1) - b1))
            denom = float(F(np.sqrt(v[row]) + eps))
            if outputs == 3:
                w[a] = F(float(w[a]) + float(rate) * c * float(m[a]) / denom)
            else:
                ng[b] = F(c * float(m[a]) / denom)
                w[a] = F(w[a] + rate * ng[b])
    out = [w.reshape(param.shape), m.reshape(m1.shape), v.reshape(m2.shape),
           ng.reshape(grad.shape)]
    return out[:outputs]


INPUTS = ["param", "m1", "m2", "indices", "grad", "lr", "iter"]


def _op(outputs=3):
    return CreateOperator("RowWiseSparseAdam", INPUTS,
                          ["param", "m1", "m2", "out_grad"][:outputs])


# Caffe2's adam_test (test_row_wise_sparse_adam and its output_grad form).
@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 5), inner=st.lists(st.integers(1, 4), max_size=1),
       k=st.integers(0, 6), outputs=st.sampled_from([3, 4]), it=st.integers(0, 100),
       seed=st.integers(0, 2**16))
def test_matches_loop(rows, inner, k, outputs, it, seed):
    rng = np.random.default_rng(seed)
    param, m1 = (rng.standard_normal([rows] + inner).astype(F) for _ in range(2))
    m2 = np.abs(rng.standard_normal(rows)).astype(F)
    indices = rng.integers(0, rows, k)
    grad = rng.standard_normal([k] + inner).astype(F)
    lr = np.array([rng.uniform(-0.1, 0.1)], F)
    check_both(
        _op(outputs), [param, m1, m2, indices, grad, lr, np.array([it], np.int64)],
        lambda *a: naive_row_wise_adam(*a, outputs=outputs), atol=0,
        # within an ulp: numpy 1.x's vectorised float32 sqrt may round the last bit
        # differently from the reference's scalar one
        rtol=2.5e-7)


@pytest.mark.parametrize("outputs", [3, 4])
@pytest.mark.parametrize("block", [1, 3])
def test_writes_rows_in_place(loops, outputs, block):
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((30, block)).astype(F),
              rng.standard_normal((30, block)).astype(F),
              np.abs(rng.standard_normal(30)).astype(F),
              rng.zipf(1.3, 200) % 30,  # one row named many times
              rng.standard_normal((200, block)).astype(F), np.array([-0.1], F),
              np.array([5], np.int64)]
    ws = run_in_workspace(_op(outputs), inputs, ["param", "m1", "m2"])
    want = naive_row_wise_adam(*inputs, outputs=outputs)
    for name, value in zip(["param", "m1", "m2", "out_grad"], want):
        np.testing.assert_allclose(ws._blobs[name], value, rtol=2.5e-7, atol=0)


def test_kernel_called_alone_never_writes_its_inputs(loops):
    kernel = registry.lookup("RowWiseSparseAdam").kernel
    p = np.zeros((3, 2), F)
    out = kernel(p, p.copy(), np.zeros(3, F), np.array([1]), np.ones((1, 2), F),
                 np.array([-0.1], F), np.zeros(1, np.int64), beta1=0.9, beta2=0.999,
                 epsilon=1e-5, num_outputs=3)
    assert not p.any() and out[0][1, 0] < 0


def _inputs(**over):
    base = {"param": np.ones((3, 2), F), "m1": np.ones((3, 2), F), "m2": np.ones(3, F),
            "indices": np.array([0, 2]), "grad": np.ones((2, 2), F), "lr": np.ones(1, F),
            "it": np.zeros(1, np.int64)}
    base.update(over)
    return list(base.values())


@pytest.mark.parametrize("over, error, match", [
    ({"m2": np.ones((3, 2), F)}, ShapeError,
     r"Input\(PARAM\)\.sizes\(\)\[0\] == Input\(MOMENT_2\)\.numel\(\)\. 3 vs 6"),
    ({"m1": np.ones(3, F)}, ShapeError, r"Input\(PARAM\)\.numel\(\) == Input\(MOMENT_1\)"),
    ({"indices": np.array([5, 0])}, EnforceError, "out of bound,  idx:5 for input i:0"),
])
def test_errors(loops, over, error, match):
    testing.check_raises(_op(), _inputs(**over), error, match)


def test_schema():
    op = CreateOperator("RowWiseSparseAdam", INPUTS, ["p", "m1", "m2"])
    testing.check_raises(op, _inputs(), SchemaError, "are not in-place but should be")


def test_gradient_is_should_not_do():
    assert GRADIENTS["RowWiseSparseAdam"].kind == SHOULD_NOT_DO


def test_empty_indices_change_nothing():
    p, v = np.arange(6, dtype=F).reshape(3, 2), np.ones(3, F)
    inputs = [p, p, v, np.zeros(0, np.int64), np.zeros((0, 2), F), np.ones(1, F),
              np.zeros(1, np.int64)]
    testing.check_reference(_op(), inputs, lambda *a: [p, p, v], atol=0, rtol=0)


def test_negative_moment_gives_nan_without_warnings():
    # A negative second moment makes the square root NaN in C float arithmetic, silently
    # (Caffe2); numpy must not warn either.
    import warnings

    from caffe2lite import workspace

    feeds = {"param": np.ones((2, 2), np.float32), "mom1": np.zeros((2, 2), np.float32), "mom2": np.array([-4, 1], np.float32), "indices": np.array([0, 1], np.int64), "grad": np.zeros((2, 2), np.float32), "lr": np.array([0.1], np.float32), "iter": np.array([0], np.int64)}
    op = CreateOperator("RowWiseSparseAdam", ["param", "mom1", "mom2", "indices", "grad", "lr", "iter"], ["param", "mom1", "mom2"])
    workspace.ResetWorkspace()
    for name, value in feeds.items():
        workspace.FeedBlob(name, value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            workspace.RunOperatorOnce(op)
        out = workspace.FetchBlob("param")
    finally:
        workspace.ResetWorkspace()
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
