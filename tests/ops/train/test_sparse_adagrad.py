from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.sparse_update import LOOPS, run_in_workspace, use_loops
from caffe2lite.ops import _sparse_update_native as sun
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import (
    ArgumentError,
    DTypeError,
    EnforceError,
    SchemaError,
    ShapeError,
)
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.workspace import Workspace

F = np.float32


def naive_sparse_adagrad(param, moment, indices, grad, lr, epsilon=1e-5, weight_decay=0.0):
    """Caffe2's loop: one index after another, element by element, in place."""
    w, h = param.copy().ravel(), moment.copy().ravel()
    idx = [int(i) for i in indices.ravel()]
    g = grad.ravel()
    block = g.size // len(idx) if idx else 0
    rate = F(lr.ravel()[0])
    for i, row in enumerate(idx):
        for j in range(block):
            a, b = row * block + j, i * block + j
            gi = F(np.float64(F(weight_decay)) * np.float64(w[a]) + np.float64(g[b]))  # fma
            h[a] = F(h[a] + gi * gi)
            w[a] = F(w[a] + F(rate * gi) / F(np.sqrt(h[a]) + F(epsilon)))
    return [w.reshape(param.shape), h.reshape(moment.shape)]


OP = CreateOperator("SparseAdagrad", ["param", "moment", "indices", "grad", "lr"],
                    ["param", "moment"])


# Caffe2's adagrad_test (test_sparse_adagrad): random tables, indices drawn with
# repeats, int32 and int64 indices, weight decay.
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 6), inner=st.lists(st.integers(1, 3), max_size=2),
       k=st.integers(0, 8), weight_decay=st.sampled_from([0.0, 0.2]),
       index_type=st.sampled_from([np.int32, np.int64]), seed=st.integers(0, 2**16))
def test_matches_loop(rows, inner, k, weight_decay, index_type, seed):
    rng = np.random.default_rng(seed)
    param = rng.standard_normal([rows] + inner).astype(F)
    moment = np.abs(rng.standard_normal([rows] + inner)).astype(F)
    indices = rng.integers(0, rows, k).astype(index_type)
    grad = rng.standard_normal([k] + inner).astype(F)
    lr = np.array([rng.uniform(-1, 1)], F)
    op = CreateOperator("SparseAdagrad", ["param", "moment", "indices", "grad", "lr"],
                        ["param", "moment"], epsilon=1e-5, weight_decay=weight_decay)
    for loops in LOOPS[sun.native is None:]:
        with use_loops(loops):
            testing.check_reference(
                op, [param, moment, indices, grad, lr],
                lambda *a: naive_sparse_adagrad(*a, weight_decay=weight_decay),
                atol=0, rtol=0)


def test_repeated_index_is_applied_twice_in_order():
    p, m = np.ones((2, 1), F), np.zeros((2, 1), F)
    got = testing.check_reference(
        OP, [p, m, np.array([1, 1]), np.array([[3.0], [4.0]], F), np.array([-1.0], F)],
        naive_sparse_adagrad)
    # first 1 - 3/3 = 0 (moment 9), then 0 - 4/5 = -0.8 (moment 25)
    np.testing.assert_allclose(got[0].ravel(), [1, -0.8], rtol=1e-5)
    np.testing.assert_allclose(got[1].ravel(), [0, 25])


def test_no_indices_changes_nothing():
    p = np.arange(6, dtype=F).reshape(3, 2)
    testing.check_reference(OP, [p, p, np.zeros(0, np.int64), np.zeros((0, 2), F),
                                 np.ones(1, F)], lambda *a: [p, p])


def _ws(param, moment, share=False):
    ws = Workspace()
    for name, value in [("param", param), ("moment", moment),
                        ("indices", np.array([1])), ("grad", np.ones((1, 2), F)),
                        ("lr", np.array([-1.0], F))]:
        ws.feed_blob(name, value)
    if share:
        ws._blobs["alias"] = ws._blobs["param"]
    return ws


@pytest.mark.parametrize("loops", LOOPS)
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_writes_into_the_stored_arrays(loops, weight_decay):
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((30, 4)).astype(F),
              np.abs(rng.standard_normal((30, 4))).astype(F),
              rng.zipf(1.3, 200) % 30,  # one row named many times
              rng.standard_normal((200, 4)).astype(F), np.array([-0.3], F)]
    op = CreateOperator("SparseAdagrad", list(OP.input), list(OP.output),
                        weight_decay=weight_decay)
    with use_loops(loops):
        ws = run_in_workspace(op, inputs, ["param", "moment"])
    want = naive_sparse_adagrad(*inputs, weight_decay=weight_decay)
    assert ws._blobs["param"].tobytes() == want[0].tobytes()
    assert ws._blobs["moment"].tobytes() == want[1].tobytes()


@pytest.mark.parametrize("loops", LOOPS)
def test_shared_array_is_copied_not_written(loops):
    ws = _ws(np.zeros((3, 2), F), np.zeros((3, 2), F), share=True)
    with use_loops(loops):
        ws.run_operator_once(OP)
    np.testing.assert_array_equal(ws._blobs["alias"], 0)
    assert ws._blobs["param"] is not ws._blobs["alias"]
    np.testing.assert_allclose(ws._blobs["param"][1], [-1, -1], rtol=1e-4)


@pytest.mark.parametrize("loops", LOOPS)
def test_kernel_called_alone_never_writes_its_inputs(loops):
    from caffe2lite.ops.train.sparse_adagrad import sparse_adagrad
    p, m = np.zeros((2, 1), F), np.zeros((2, 1), F)
    with use_loops(loops):
        out = sparse_adagrad(p, m, np.array([0]), np.ones((1, 1), F), np.ones(1, F),
                             epsilon=1e-5, weight_decay=0.0, decay=1.0)
    assert p[0, 0] == 0 and out[0][0, 0] > 0.9


def _inputs(param=None, moment=None, indices=None, grad=None, lr=None):
    return [np.ones((3, 2), F) if param is None else param,
            np.ones((3, 2), F) if moment is None else moment,
            np.array([0, 2]) if indices is None else indices,
            np.ones((2, 2), F) if grad is None else grad,
            np.ones(1, F) if lr is None else lr]


@pytest.mark.parametrize("inputs, error, match", [
    (_inputs(moment=np.ones(5, F)), ShapeError,
     (r"Input\(PARAM\)\.numel\(\) == Input\(MOMENT_1\)\.numel\(\)\. 6 vs 5\. Input Param "
     r"size: 6 Input Moment size: 5")),
    (_inputs(lr=np.ones(2, F)), ShapeError, r"Input\(LR\)\.numel\(\) == 1\. 2 vs 1"),
    (_inputs(grad=np.ones((2, 3), F)), ShapeError,
     (r"Input\(PARAM\)\.size_from_dim\(1\) == Input\(GRAD\)\.size_from_dim\(Input\(INDICES\)"
     r"\.dim\(\)\)\. 2 vs 3")),
    (_inputs(indices=np.array([0.0, 1.0])), DTypeError, "Unsupported type of tensor: double"),
    (_inputs(indices=np.array([0, 3])), EnforceError,
     (r"Input\(PARAM\)\.numel\(\) >= block_size \+ offsetIdx\. 6 vs 8\. param, out of bound,"
     r"  idx:3 for input i:1 and block size:2 max size:6")),
    (_inputs(indices=np.array([-1, 0])), EnforceError, r"out of bound,  idx:-1 for input i:0"),
    (_inputs(grad=np.ones((2, 2), np.float64)), DTypeError,
     "caller expects elements to be float while tensor contains double"),
    (_inputs(indices=np.array([[0, 1, 2]]), grad=np.ones((1, 3, 2), F),
             param=np.ones((4, 2), F), moment=np.ones((4, 2), F)), EnforceError, None),
])
@pytest.mark.parametrize("loops", LOOPS)
def test_errors(loops, inputs, error, match):
    with use_loops(loops):  # check_raises also checks that no blob changed
        _check_error(inputs, error, match)


def _check_error(inputs, error, match):
    if match is None:  # a valid 2-D indices case: no error; check it runs
        ws = Workspace()
        for name, value in zip(OP.input, inputs):
            ws.feed_blob(name, value)
        ws.run_operator_once(OP)
        return
    testing.check_raises(OP, inputs, error, match)


def test_incorrect_gradient_size():
    # grad.size_from_dim(indices.ndim) matches, but its numel is not a multiple of n
    inputs = _inputs(indices=np.array([0, 1, 2]), grad=np.ones((2, 2), F))
    testing.check_raises(OP, inputs, ShapeError,
                         r"Input\(GRAD\)\.numel\(\) % n == 0\. 1 vs 0\. Incorrect gradient "
                         r"size:4 size of indexes:3")


def test_schema_and_arguments():
    op = CreateOperator("SparseAdagrad", ["p", "m", "i", "g", "lr"], ["p2", "m"])
    testing.check_raises(op, _inputs(), SchemaError, r"are not in-place but should be")
    op = CreateOperator("SparseAdagrad", ["p", "m", "i", "g", "lr"], ["p", "m"], decay=0.5)
    testing.check_raises(op, _inputs(), ArgumentError,
                         "Decay is not supported for SparseSimdAdagradOp")


def test_gradient_is_should_not_do():
    assert GRADIENTS["SparseAdagrad"].kind == SHOULD_NOT_DO


def test_empty_rows_change_nothing():
    p = np.zeros((3, 0), F)
    testing.check_reference(OP, [p, p, np.array([1, 5]), np.zeros((2, 0), F),
                                 np.ones(1, F)], lambda *a: [p, p])


def test_negative_moment_gives_nan_without_warnings():
    # A negative moment makes the square root NaN in C float arithmetic, silently
    # (Caffe2); numpy must not warn either.
    import warnings

    from caffe2lite import workspace

    feeds = {"param": np.ones((2, 2), np.float32), "moment": np.array([[-4, -4], [1, 1]], np.float32), "indices": np.array([0, 1], np.int64), "grad": np.zeros((2, 2), np.float32), "lr": np.array([0.1], np.float32)}
    op = CreateOperator("SparseAdagrad", ["param", "moment", "indices", "grad", "lr"], ["param", "moment"])
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
