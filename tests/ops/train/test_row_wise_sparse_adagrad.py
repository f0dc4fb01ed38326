from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support import sparse_update
from c2l_test_support.sparse_update import check_both, run_in_workspace
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, SchemaError, ShapeError
from caffe2lite.inference import op_cost
from caffe2lite.schema import registry
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.workspace import Workspace

# The fixture (the compiled loops, then the numpy ones), bound here for pytest to find:
# assigned, not imported, so that the tests' ``loops`` parameters are no F811.
loops = sparse_update.loops

F = np.float32


def naive_row_wise(param, moment, indices, grad, lr, *counter, epsilon=1e-5,
                   weight_decay=0.0):
    """Caffe2's plain CPU loop: per index, the mean squared gradient of the row, then
    one step size for the whole row."""
    w, h = param.copy().ravel(), moment.copy().ravel()
    idx = [int(i) for i in indices.ravel()]
    g = grad.ravel()
    block = g.size // len(idx) if idx else 0
    rate, wd, eps = F(lr.ravel()[0]), F(weight_decay), F(epsilon)
    for i, row in enumerate(idx):
        if block == 1:
            gi = F(np.float64(wd) * np.float64(w[row]) + np.float64(g[i]))  # fma
            h[row] = F(h[row] + gi * gi)
            w[row] = F(w[row] + F(rate * gi) / F(np.sqrt(h[row]) + eps))
            continue
        total = F(0)
        for j in range(block):
            gj = F(np.float64(wd) * np.float64(w[row * block + j])
                   + np.float64(g[i * block + j]))  # fma
            total = F(total + gj * gj)
        h[row] = F(h[row] + F(total / F(block)))
        step = F(rate / F(np.sqrt(h[row]) + eps))
        for j in range(block):
            gj = F(np.float64(wd) * np.float64(w[row * block + j])
                   + np.float64(g[i * block + j]))  # fma
            w[row * block + j] = F(w[row * block + j] + gj * step)
    return [w.reshape(param.shape), h.reshape(moment.shape)]


NAMES = ["param", "moment", "indices", "grad", "lr"]
OP = CreateOperator("RowWiseSparseAdagrad", NAMES, ["param", "moment"])


# Caffe2's adagrad_test (test_row_wise_sparse_adagrad): random tables with rows of
# one or more elements, repeated indices, weight decay.
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 6), inner=st.lists(st.integers(1, 4), max_size=2),
       k=st.integers(0, 8), weight_decay=st.sampled_from([0.0, 0.3]),
       index_type=st.sampled_from([np.int32, np.int64]), seed=st.integers(0, 2**16))
def test_matches_loop(rows, inner, k, weight_decay, index_type, seed):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal([rows] + inner).astype(F)
    moment = np.abs(rng.standard_normal(rows)).astype(F)
    indices = rng.integers(0, rows, k).astype(index_type)
    grad = rng.standard_normal([k] + inner).astype(F)
    lr = np.array([rng.uniform(-1, 1)], F)
    op = CreateOperator("RowWiseSparseAdagrad", NAMES, ["param", "moment"],
                        weight_decay=weight_decay)
    check_both(op, [param, moment, indices, grad, lr],
               lambda *a: naive_row_wise(*a, weight_decay=weight_decay),
               atol=0, rtol=0)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("block", [1, 4])
def test_writes_into_the_stored_arrays(loops, weight_decay, block):
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((30, block)).astype(F),
              np.abs(rng.standard_normal(30)).astype(F),
              rng.zipf(1.3, 200) % 30,  # one row named many times
              rng.standard_normal((200, block)).astype(F), np.array([-0.3], F)]
    op = CreateOperator("RowWiseSparseAdagrad", NAMES, ["param", "moment"],
                        weight_decay=weight_decay)
    ws = run_in_workspace(op, inputs, ["param", "moment"])
    want = naive_row_wise(*inputs, weight_decay=weight_decay)
    assert ws._blobs["param"].tobytes() == want[0].tobytes()
    assert ws._blobs["moment"].tobytes() == want[1].tobytes()


def test_kernel_called_alone_or_shared_arrays_get_copies(loops):
    kernel = registry.lookup("RowWiseSparseAdagrad").kernel
    p, m = np.zeros((2, 2), F), np.zeros(2, F)
    out = kernel(p, m, np.array([0]), np.ones((1, 2), F), np.ones(1, F), epsilon=1e-5,
                 weight_decay=0.0, counter_halflife=-1)
    assert not p.any() and not m.any() and out[0][0, 0] > 0.9
    ws = Workspace()
    for name, value in zip(NAMES, [p, m, np.array([0]), np.ones((1, 2), F), np.ones(1, F)]):
        ws.feed_blob(name, value)
    ws._blobs["alias"] = ws._blobs["param"]
    ws.run_operator_once(OP)
    assert not ws._blobs["alias"].any() and ws._blobs["param"][0, 0] > 0.9


def test_counter_input_is_accepted_and_ignored():
    op = CreateOperator("RowWiseSparseAdagrad", NAMES + ["counter"], ["param", "moment"],
                        counter_halflife=10)
    inputs = [np.ones((3, 2), F), np.ones(3, F), np.array([2, 2]), np.ones((2, 2), F),
              np.ones(1, F), np.full(3, 7.0, F)]
    testing.check_reference(op, inputs, naive_row_wise)


def _inputs(param=None, moment=None, indices=None, grad=None, lr=None):
    return [np.ones((3, 2), F) if param is None else param,
            np.ones(3, F) if moment is None else moment,
            np.array([0, 2]) if indices is None else indices,
            np.ones((2, 2), F) if grad is None else grad,
            np.ones(1, F) if lr is None else lr]


@pytest.mark.parametrize("inputs, error, match", [
    (_inputs(moment=np.ones(6, F)), ShapeError,
     r"Input\(PARAM\)\.sizes\(\)\[0\] == Input\(MOMENT_1\)\.numel\(\)\. 3 vs 6"),
    (_inputs(lr=np.ones(3, F)), ShapeError, r"Input\(LR\)\.numel\(\) == 1\. 3 vs 1"),
    (_inputs(grad=np.ones((2, 1), F)), ShapeError, r"size_from_dim\(1\) == "),
    (_inputs(indices=np.array([3, 0])), EnforceError, r"out of bound,  idx:3 for input i:0"),
    (_inputs(param=np.array(1.0, F)), ShapeError, "param must have at least one dimension"),
])
def test_errors(loops, inputs, error, match):
    testing.check_raises(OP, inputs, error, match)


def test_schema():
    op = CreateOperator("RowWiseSparseAdagrad", NAMES[:4], ["param", "moment"])
    testing.check_raises(op, _inputs()[:4], SchemaError, r"Input size 4 not in range")


def test_cost():
    shapes = [TensorShape((5, 4), F), TensorShape((5,), F), TensorShape((3,), np.int64),
              TensorShape((3, 4), F), TensorShape((1,), F)]
    cost = op_cost(OP, shapes)
    assert cost.flops == 3 * (5 + 4 * 8)
    assert cost.bytes_written == 3 * 4 + 3 * 4 * 4


def test_gradient_is_should_not_do():
    assert GRADIENTS["RowWiseSparseAdagrad"].kind == SHOULD_NOT_DO


def test_empty_indices_change_nothing():
    # Caffe2's adagrad_test (test_row_wise_sparse_adagrad_empty)
    p, m = np.arange(6, dtype=F).reshape(3, 2), np.ones(3, F)
    testing.check_reference(OP, [p, m, np.zeros(0, np.int32), np.zeros((0, 2), F),
                                 np.ones(1, F)], lambda *a: [p, m], atol=0, rtol=0)


def test_empty_rows_are_an_error():
    # Caffe2 divided by the block size 0
    testing.check_raises(OP, _inputs(param=np.zeros((3, 0), F), grad=np.zeros((2, 0), F)),
                         ShapeError, "grad has empty rows: the block size is 0")


def test_negative_moment_gives_nan_without_warnings():
    # A negative moment makes the square root NaN in C float arithmetic, silently
    # (Caffe2); numpy must not warn either.
    import warnings

    from caffe2lite import workspace

    feeds = {"param": np.ones((2, 2), np.float32), "moment": np.array([-4, 1], np.float32), "indices": np.array([0, 1], np.int64), "grad": np.zeros((2, 2), np.float32), "lr": np.array([0.1], np.float32)}
    op = CreateOperator("RowWiseSparseAdagrad", ["param", "moment", "indices", "grad", "lr"], ["param", "moment"])
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
