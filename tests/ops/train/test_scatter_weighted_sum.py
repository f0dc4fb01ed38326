from __future__ import annotations

import weakref

import numpy as np
import pytest
from c2l_test_support.sparse_update import LOOPS, use_loops
from caffe2lite.ops import _sparse_update_native as sun
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.schema.registry import GRADIENTS, SHOULD_NOT_DO
from caffe2lite.workspace import Workspace


def naive_scatter_weighted_sum(x0, w0, indices, *rest):
    """Caffe2's CPU loop, one index at a time: scale every named row by w0 (once per
    occurrence, skipped when w0 == 1), then add each w_k * X_k[i] to its row."""
    n = x0.shape[0]
    data = x0.reshape(n, -1).copy()
    block = data.shape[1]
    idx = [int(i) for i in indices.reshape(-1)]
    scale = x0.dtype.type(w0.reshape(-1)[0])
    if scale != 1:
        for row in idx:
            for e in range(block):
                data[row, e] = scale * data[row, e]
    for j in range(0, len(rest), 2):
        x = rest[j].reshape(len(idx), block)
        w = x0.dtype.type(rest[j + 1].reshape(-1)[0])
        for i, row in enumerate(idx):
            for e in range(block):
                data[row, e] = data[row, e] + w * x[i, e]
    return [data.reshape(x0.shape)]


def _op(pairs, out="X0"):
    names = ["X0", "W0", "I"] + [
        n for k in range(1, pairs + 1) for n in (f"X{k}", f"W{k}")
    ]
    return CreateOperator("ScatterWeightedSum", names, [out])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 6),
    inner=st.lists(st.integers(1, 3), max_size=2),
    k=st.integers(0, 10),
    pairs=st.integers(1, 3),
    unit_w0=st.booleans(),
    index_type=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_sequential_loop_exactly(n, inner, k, pairs, unit_w0, index_type, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal([n] + inner).astype(np.float32)
    w0 = (
        np.ones(1, np.float32)
        if unit_w0
        else rng.uniform(0.3, 1.7, 1).astype(np.float32)
    )
    indices = rng.integers(0, n, k).astype(index_type)  # duplicates are frequent
    inputs = [x0, w0, indices]
    for _ in range(pairs):
        inputs += [
            rng.standard_normal([k] + inner).astype(np.float32),
            rng.standard_normal(1).astype(np.float32),
        ]
    for loops in LOOPS[sun.native is None :]:
        with use_loops(loops):
            testing.check_reference(
                _op(pairs), inputs, naive_scatter_weighted_sum, atol=0, rtol=0
            )


def test_doc_example_repeated_rows_are_scaled_once_per_occurrence():
    x0 = np.array([[1, 1], [2, 2], [3, 3]], np.float32)
    x1 = np.array([[1, 1], [2, 2], [4, 4]], np.float32)
    want = np.array([[2.5, 2.5], [2, 2], [0.25 * 3 + 1 + 4] * 2], np.float32)
    testing.check_reference(
        _op(1),
        [
            x0,
            np.array([0.5], np.float32),
            np.array([2, 0, 2]),
            x1,
            np.ones(1, np.float32),
        ],
        lambda *a: [want],
        atol=0,
    )


def test_only_sizes_matter_for_the_slices():
    x0 = np.zeros((4, 2, 3), np.float32)
    slices = np.arange(12, dtype=np.float32).reshape(3, 4)  # 2 slices of 6 elements
    got = testing.check_reference(
        _op(1),
        [
            x0,
            np.ones(1, np.float32),
            np.array([3, 1], np.int64),
            slices,
            np.full((1, 1), 2.0, np.float32),
        ],
        naive_scatter_weighted_sum,
        atol=0,
    )[0]
    assert got.shape == (4, 2, 3)
    np.testing.assert_array_equal(got[3].reshape(-1), 2 * np.arange(6))


def test_no_indices_leaves_the_table_unchanged():
    x0 = np.arange(6, dtype=np.float32).reshape(3, 2)
    testing.check_reference(
        _op(1),
        [
            x0,
            np.array([0.1], np.float32),
            np.zeros(0, np.int32),
            np.zeros((0, 2), np.float32),
            np.ones(1, np.float32),
        ],
        lambda *a: [x0],
    )


def _workspace(x0, w0, indices, x1, w1):
    ws = Workspace()
    for name, value in zip(["X0", "W0", "I", "X1", "W1"], [x0, w0, indices, x1, w1]):
        ws.feed_blob(name, value)
    return ws


def _identity(arr):
    """The array object (a weak reference: not a holder) and its memory address."""
    return weakref.ref(arr), arr.__array_interface__["data"][0]


@pytest.mark.parametrize("loops", LOOPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stored_table_is_written_in_place(loops, dtype):
    rng = np.random.default_rng(3)
    x0 = rng.standard_normal((50, 4)).astype(dtype)
    idx = rng.zipf(1.3, 300) % 50  # one row named many times
    x1, w1 = rng.standard_normal((300, 4)).astype(dtype), np.full(1, -0.3, dtype)
    w0 = np.full(1, 0.99, dtype)
    with use_loops(loops):
        ws = _workspace(x0, w0, idx, x1, w1)
        ref, address = _identity(ws._blobs["X0"])
        ws.run_operator_once(_op(1))
    stored = ws._blobs["X0"]
    assert stored is ref() and stored.__array_interface__["data"][0] == address
    want = naive_scatter_weighted_sum(x0, w0, idx, x1, w1)[0]
    assert stored.dtype == dtype and stored.tobytes() == want.tobytes()


@pytest.mark.parametrize("loops", LOOPS)
def test_in_place_in_a_created_net_run_many_times(loops):
    ws = _workspace(
        np.zeros((3, 2), np.float32),
        np.ones(1, np.float32),
        np.array([1, 1]),
        np.ones((2, 2), np.float32),
        np.ones(1, np.float32),
    )
    net = caffe2_pb2.NetDef(name="sws_net", op=[_op(1)])
    with use_loops(loops):
        ws.create_net(net)
        ref, address = _identity(ws._blobs["X0"])
        for _ in range(3):
            ws.run_net("sws_net")
    assert ws._blobs["X0"] is ref()
    assert ws._blobs["X0"].__array_interface__["data"][0] == address
    assert ws.fetch_blob("X0").tolist() == [[0, 0], [6, 6], [0, 0]]


@pytest.mark.parametrize("loops", LOOPS)
def test_kernel_on_its_own_or_a_shared_table_updates_a_copy(loops):
    kernel = registry.lookup("ScatterWeightedSum").kernel
    x0 = np.ones((3, 2), np.float32)
    feeds = [
        x0,
        np.array([0.5], np.float32),
        np.array([1, 1]),
        np.ones((2, 2), np.float32),
        np.ones(1, np.float32),
    ]
    with use_loops(loops):
        (got,) = kernel(*feeds)
        assert got is not x0 and (x0 == 1).all()
        np.testing.assert_array_equal(got[1], [2.25, 2.25])  # 1 * 0.5 * 0.5 + 1 + 1
        ws = _workspace(*feeds)
        ws._blobs["view"] = ws._blobs["X0"][1:]  # another blob sees X0's memory
        ws.run_operator_once(_op(1))
    np.testing.assert_array_equal(ws._blobs["view"], np.ones((2, 2)))
    np.testing.assert_array_equal(ws.fetch_blob("X0")[1], [2.25, 2.25])


def _inputs(x0=None, w0=None, indices=None, x1=None, w1=None):
    return [
        np.ones((3, 2), np.float32) if x0 is None else x0,
        np.array([0.5], np.float32) if w0 is None else w0,
        np.array([0, 2]) if indices is None else indices,
        np.ones((2, 2), np.float32) if x1 is None else x1,
        np.ones(1, np.float32) if w1 is None else w1,
    ]


@pytest.mark.parametrize("loops", LOOPS)
@pytest.mark.parametrize(
    "inputs, error, match",
    [
        (
            _inputs(indices=np.array([0.0, 1.0])),
            DTypeError,
            r"Unsupported type of tensor: double",
        ),
        (
            _inputs(x0=np.ones((3, 2), np.int32)),
            DTypeError,
            r"Unsupported type of tensor: int\b",
        ),
        (
            _inputs(x0=np.ones((3, 2), np.int32), indices=np.array([0.0])),
            DTypeError,
            r"Unsupported type of tensor: int \(blob 'X_0=X0'",
        ),
        (
            _inputs(x0=np.ones((0, 2), np.float32), indices=np.array([0.0])),
            DTypeError,
            r"Unsupported type of tensor: double",
        ),
        (
            _inputs(x0=np.array(1.0, np.float32)),
            EnforceError,
            "X0 has to be at least the vector",
        ),
        (
            _inputs(w0=np.ones(2, np.float32)),
            EnforceError,
            r"weight0\.numel\(\) == 1\. 2 vs 1",
        ),
        (
            _inputs(w0=np.ones(1, np.float64)),
            DTypeError,
            "caller expects elements to be float while tensor contains double",
        ),
        (
            _inputs(x0=np.ones((3, 2)), w0=np.ones(1, np.float32)),
            DTypeError,
            "caller expects elements to be double while tensor contains float",
        ),
        (
            _inputs(x0=np.ones((3, 2)), w0=np.ones(1), x1=np.ones((2, 2), np.float32)),
            DTypeError,
            "caller expects elements to be double while tensor contains float",
        ),
        (
            _inputs(indices=np.array([0, 3])),
            EnforceError,
            r"Index out of bounds: 3, range 0 to 3 \(blob 'INDICES=I'",
        ),
        (
            _inputs(indices=np.array([-1, 0]), w0=np.ones(1, np.float32)),
            EnforceError,
            r"Index out of bounds: -1, range 0 to 3",
        ),
        (
            _inputs(x1=np.ones(6, np.float32)),
            EnforceError,
            r"X\.numel\(\) == block_size \* K\. 6 vs 4",
        ),
        (
            _inputs(w1=np.ones(2, np.float32)),
            EnforceError,
            r"weight\.numel\(\) == 1\. 2 vs 1",
        ),
    ],
)
def test_errors(loops, inputs, error, match):
    with use_loops(loops):  # check_raises also checks that no blob changed
        testing.check_raises(_op(1), inputs, error, match)


def test_schema_errors():
    testing.check_raises(
        _op(1, out="Y"),
        _inputs(),
        SchemaError,
        r"Input index 0 \(X0\) and output idx 0 \(Y\) are not in-place but "
        "should be as required by op ScatterWeightedSum",
    )
    short = CreateOperator("ScatterWeightedSum", ["X0", "W0", "I"], ["X0"])
    testing.check_raises(
        short,
        _inputs()[:3],
        SchemaError,
        r"Input size 3 not in range \[min=5, max=INT_MAX\]\.",
    )
    even = CreateOperator(
        "ScatterWeightedSum", ["X0", "W0", "I", "X1", "W1", "X2"], ["X0"]
    )
    testing.check_raises(
        even,
        _inputs() + [np.ones((2, 2), np.float32)],
        SchemaError,
        r"Input size 6 not in allowed input sizes\.",
    )


def test_gradient_decision_is_should_not_do():
    assert GRADIENTS["ScatterWeightedSum"].kind == SHOULD_NOT_DO


# -- float64 tables and empty tables (as Caffe2) ---------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 5),
    k=st.integers(0, 6),
    unit_w0=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_float64_matches_sequential_loop(n, k, unit_w0, seed):
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((n, 3))
    w0 = np.ones(1) if unit_w0 else rng.standard_normal(1)
    idx = rng.integers(0, n, k).astype(np.int64)
    x1, w1 = rng.standard_normal((k, 3)), rng.standard_normal(1)
    for loops in LOOPS[sun.native is None :]:
        with use_loops(loops):
            ws = _workspace(x0, w0, idx, x1, w1)
            ws.run_operator_once(_op(1))
        got = ws.fetch_blob("X0")
        assert got.dtype == np.float64
        np.testing.assert_array_equal(
            got, naive_scatter_weighted_sum(x0, w0, idx, x1, w1)[0]
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_table_is_left_unchanged(dtype):
    # Caffe2 returned at once for an empty X_0: the weights and slices are not read
    ws = Workspace()
    x0 = np.ones((0, 4), dtype)
    feeds = [
        x0,
        np.ones(3, np.float32),
        np.array([5, -1]),
        np.ones(7, np.int32),
        np.ones(2, np.float32),
    ]
    for name, value in zip(["X0", "W0", "I", "X1", "W1"], feeds):
        ws.feed_blob(name, value)
    ws.run_operator_once(_op(1))
    got = ws.fetch_blob("X0")
    assert got.shape == (0, 4) and got.dtype == dtype


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x0 = TensorShape((5, 3), np.float64)
    one = TensorShape((1,), np.float64)
    got = infer_op(
        _op(1),
        [x0, one, TensorShape((2,), np.int32), TensorShape((2, 3), np.float64), one],
    )
    assert got == [x0]
