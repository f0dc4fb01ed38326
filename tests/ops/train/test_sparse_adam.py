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


def naive_sparse_adam(param, m1, m2, indices, grad, lr, it, beta1=0.9, beta2=0.999,
                      epsilon=1e-5, enableRAdam=False, outputs=3):
    """Caffe2's SparseAdam loop (Adam or RAdam), one index and element at a time:
    one-element rows use the double corrections, longer ones get them as floats."""
    t = int(it.ravel()[0]) + 1
    b1f, b2f = float(F(beta1)), float(F(beta2))
    b1c = 1.0 / (1.0 - b1f ** t)
    corr = b1c * math.sqrt(1.0 - b2f ** t)
    rho_inf = F(F(2) / (F(1) - F(beta2)) - F(1))
    rho_t = float(rho_inf) - float(F(2) * F(t)) * b2f ** t / (1.0 - b2f ** t)
    r_corr = (float(F(math.sqrt(rho_inf / ((rho_inf - F(4)) * (rho_inf - F(2))))))
              if enableRAdam else 0.0)
    block = param.size // param.shape[0]
    if block > 1:
        corr, b1c, rho_t = float(F(corr)), float(F(b1c)), float(F(rho_t))
    r_t = F(math.sqrt((rho_t - 4) * (rho_t - 2) / rho_t) * r_corr) if rho_t >= 5 else F(0)
    b1, b2, eps, rate = F(beta1), F(beta2), F(epsilon), F(lr.ravel()[0])
    w, m, v = (a.ravel().copy() for a in (param, m1, m2))
    g = grad.ravel()
    ng = np.empty_like(g)
    for i, row in enumerate(int(x) for x in indices.ravel()):
        for j in range(block):
            a, b = row * block + j, i * block + j
            m[a] = F(m[a] * b1 + g[b] * F(F(1) - b1))
            v[a] = F(v[a] * b2 + F(g[b] * g[b]) * F(F(1) - b2))
            denom = float(F(np.sqrt(v[a]) + eps))
            if outputs == 3 and block == 1:  # the op's own loop, in double
                if not enableRAdam:
                    step = float(rate) * corr * float(m[a]) / denom
                elif rho_t >= 5:
                    step = float(F(rate * r_t)) * corr * float(m[a]) / denom
                else:
                    step = float(rate) * b1c * float(m[a])
                w[a] = F(float(w[a]) + step)
                continue
            if outputs == 3:  # adam_compute / radam_compute, float arguments
                if not enableRAdam:
                    step = F(F(F(rate * F(corr)) * m[a]) / F(denom))
                elif rho_t >= 5:
                    step = F(F(F(F(rate * r_t) * F(corr)) * m[a]) / F(denom))
                else:
                    step = F(F(rate * F(b1c)) * m[a])
                w[a] = F(w[a] + step)
                continue
            if not enableRAdam:  # the *_output_grad forms
                eff = F(corr * float(m[a]) / denom)
            elif rho_t >= 5:
                eff = F(float(r_t) * corr * float(m[a]) / denom)
            else:
                eff = F(b1c * float(m[a]))
            if block > 1:
                if not enableRAdam:
                    eff = F(F(F(corr) * m[a]) / F(denom))
                elif rho_t >= 5:
                    eff = F(F(F(r_t * F(corr)) * m[a]) / F(denom))
                else:
                    eff = F(F(b1c) * m[a])
            ng[b] = eff
            w[a] = F(w[a] + rate * eff)
    out = [w.reshape(param.shape), m.reshape(m1.shape), v.reshape(m2.shape),
           ng.reshape(grad.shape)]
    return out[:outputs]


INPUTS = ["param", "m1", "m2", "indices", "grad", "lr", "iter"]


def _op(outputs=3, **kw):
    return CreateOperator("SparseAdam", INPUTS, ["param", "m1", "m2", "out_grad"][:outputs],
                          **kw)


# Caffe2's adam_test (test_sparse_adam, test_sparse_adam_output_grad, RAdam): random
# tables and indices (with repeats), both output counts, both index types.
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 5), inner=st.lists(st.integers(1, 3), max_size=2),
       k=st.integers(0, 6), outputs=st.sampled_from([3, 4]), radam=st.booleans(),
       it=st.sampled_from([0, 3, 10, 500]), index_type=st.sampled_from([np.int32, np.int64]),
       seed=st.integers(0, 2**16))
def test_matches_loop(rows, inner, k, outputs, radam, it, index_type, seed):
    rng = np.random.default_rng(seed)
    param, m1 = (rng.standard_normal([rows] + inner).astype(F) for _ in range(2))
    m2 = np.abs(rng.standard_normal([rows] + inner)).astype(F)
    indices = rng.integers(0, rows, k).astype(index_type)
    grad = rng.standard_normal([k] + inner).astype(F)
    lr = np.array([rng.uniform(-0.1, 0.1)], F)
    kw = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-5, "enableRAdam": radam}
    check_both(
        _op(outputs, **kw), [param, m1, m2, indices, grad, lr, np.array([it], np.int64)],
        lambda *a: naive_sparse_adam(*a, outputs=outputs, **kw), atol=0,
        # within an ulp: numpy 1.x's vectorised float32 sqrt may round the last bit
        # differently from the reference's scalar one
        rtol=2.5e-7)


@pytest.mark.parametrize("outputs", [3, 4])
@pytest.mark.parametrize("radam, it", [(False, 0), (True, 0), (True, 30)])
@pytest.mark.parametrize("block", [1, 3])
def test_writes_rows_in_place(loops, outputs, radam, it, block):
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((30, block)).astype(F),
              rng.standard_normal((30, block)).astype(F),
              np.abs(rng.standard_normal((30, block))).astype(F),
              rng.zipf(1.3, 200) % 30,  # one row named many times
              rng.standard_normal((200, block)).astype(F), np.array([-0.1], F),
              np.array([it], np.int64)]
    kw = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-5, "enableRAdam": radam}
    ws = run_in_workspace(_op(outputs, **kw), inputs, ["param", "m1", "m2"])
    want = naive_sparse_adam(*inputs, outputs=outputs, **kw)
    for name, value in zip(["param", "m1", "m2", "out_grad"], want):
        np.testing.assert_allclose(ws._blobs[name], value, rtol=2.5e-7, atol=0)


def test_kernel_called_alone_never_writes_its_inputs(loops):
    kernel = registry.lookup("SparseAdam").kernel
    p = np.zeros((3, 2), F)
    out = kernel(p, p.copy(), p.copy(), np.array([1]), np.ones((1, 2), F),
                 np.array([-0.1], F), np.zeros(1, np.int64), beta1=0.9, beta2=0.999,
                 epsilon=1e-5, enableRAdam=False, num_outputs=3)
    assert not p.any() and out[0][1, 0] < 0


def _inputs(**over):
    base = {"param": np.ones((3, 2), F), "m1": np.ones((3, 2), F), "m2": np.ones((3, 2), F),
                "indices": np.array([0, 2]), "grad": np.ones((2, 2), F), "lr": np.ones(1, F),
                "it": np.zeros(1, np.int64)}
    base.update(over)
    return list(base.values())


@pytest.mark.parametrize("over, error, match", [
    ({"m1": np.ones(5, F)}, ShapeError, r"Input\(PARAM\)\.numel\(\) == Input\(MOMENT_1\)"),
    ({"m2": np.ones(5, F)}, ShapeError, r"Input\(PARAM\)\.numel\(\) == Input\(MOMENT_2\)"),
    ({"grad": np.ones((2, 3), F)}, ShapeError, r"size_from_dim\(1\) == .* 2 vs 3"),
    ({"lr": np.ones(2, F)}, ShapeError, r"Input\(LR\)\.numel\(\) == 1\. 2 vs 1"),
    ({"indices": np.array([0, 3])}, EnforceError, "out of bound,  idx:3 for input i:1"),
    ({"indices": np.array([0])}, ShapeError,
     r"Input\(INDICES\)\.numel\(\) == Input\(GRAD\)\.numel\(\) / block_size\. 1 vs 2"),
    ({"param": np.ones((0, 2), F), "m1": np.ones((0, 2), F), "m2": np.ones((0, 2), F)},
     ShapeError, "param must have at least one row"),
])
def test_errors(loops, over, error, match):
    testing.check_raises(_op(), _inputs(**over), error, match)


def test_schema():
    op = CreateOperator("SparseAdam", INPUTS, ["param", "m1", "m2_out"])
    testing.check_raises(op, _inputs(), SchemaError, "are not in-place but should be")


def test_gradient_is_should_not_do():
    assert GRADIENTS["SparseAdam"].kind == SHOULD_NOT_DO


def test_empty_indices_change_nothing():
    p = np.arange(6, dtype=F).reshape(3, 2)
    inputs = [p, p, p, np.zeros(0, np.int64), np.zeros((0, 2), F), np.ones(1, F),
              np.zeros(1, np.int64)]
    testing.check_reference(_op(4), inputs, lambda *a: [p, p, p, np.zeros((0, 2), F)],
                            atol=0, rtol=0)


def test_negative_moment_gives_nan_without_warnings():
    # A negative second moment makes the square root NaN in C float arithmetic, silently
    # (Caffe2); numpy must not warn either.
    import warnings

    from caffe2lite import workspace

    feeds = {"param": np.ones((2, 2), np.float32), "mom1": np.zeros((2, 2), np.float32), "mom2": np.array([[-4, -4], [1, 1]], np.float32), "indices": np.array([0, 1], np.int64), "grad": np.zeros((2, 2), np.float32), "lr": np.array([0.1], np.float32), "iter": np.array([0], np.int64)}
    op = CreateOperator("SparseAdam", ["param", "mom1", "mom2", "indices", "grad", "lr", "iter"], ["param", "mom1", "mom2"])
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
