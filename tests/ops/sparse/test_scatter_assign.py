"""ScatterAssign: a naive loop, Caffe2's test (random rows overwritten, each type
pair), the in-place contract (the stored array is written, only after all checks),
errors."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.sparse_update import run_in_workspace
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator
from caffe2lite.errors import DTypeError, EnforceError, SchemaError, ShapeError
from caffe2lite.schema import registry
from caffe2lite.workspace import Workspace

OP = CreateOperator("ScatterAssign", ["D", "I", "S"], ["D"])


def naive(data, indices, slices):
    out = data.copy().reshape(data.shape[0], -1)
    flat = slices.reshape(indices.size, -1) if indices.size else slices
    for i, r in enumerate(indices.reshape(-1).tolist()):
        out[r] = flat[i]
    return [out.reshape(data.shape)]


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(1, 6),
    tail=st.sampled_from([(), (3,), (2, 2)]),
    k=st.integers(0, 8),
    dtype=st.sampled_from([np.float32, np.float16, np.uint8, np.int32, np.int64]),
    itype=st.sampled_from([np.int32, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(rows, tail, k, dtype, itype, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 50, (rows,) + tail).astype(dtype)
    indices = rng.integers(0, rows, k).astype(itype)
    slices = rng.integers(50, 99, (k,) + tail).astype(dtype)
    testing.check_reference(OP, [data, indices, slices], naive)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
def test_writes_the_stored_array_in_place(dtype):
    rng = np.random.default_rng(1)
    data = rng.integers(0, 50, (40, 3)).astype(dtype)
    indices = rng.zipf(1.3, 200) % 40  # rows named many times: the last slice wins
    slices = rng.integers(50, 99, (200, 3)).astype(dtype)
    ws = run_in_workspace(OP, [data, indices, slices], ["D"])
    np.testing.assert_array_equal(ws._blobs["D"], naive(data, indices, slices)[0])


def test_a_shared_array_or_the_kernel_alone_gets_a_copy():
    ws = Workspace()
    ws.feed_blob("D", np.zeros((3, 2), np.float32))
    ws.feed_blob("I", np.array([1]))
    ws.feed_blob("S", np.ones((1, 2), np.float32))
    ws._blobs["view"] = ws._blobs["D"][1:]
    ws.run_operator_once(OP)
    assert not ws._blobs["view"].any()
    assert ws.fetch_blob("D").tolist() == [[0, 0], [1, 1], [0, 0]]
    kernel = registry.lookup("ScatterAssign").kernel
    data = np.zeros((3, 2), np.float32)
    (y,) = kernel(data, np.array([2]), np.ones((1, 2), np.float32))
    assert y is not data and not data.any() and y.tolist() == [[0, 0], [0, 0], [1, 1]]


def test_errors_leave_data_untouched():
    d, i, s = (
        np.zeros((3, 2), np.float32),
        np.array([0, 1]),
        np.ones((2, 2), np.float32),
    )
    testing.check_raises(
        OP,
        [d, i, s.astype(np.float64)],
        DTypeError,
        "1 vs 13. Data and slice types must match",
    )
    testing.check_raises(
        OP,
        [d.astype(bool), i, s.astype(bool)],
        DTypeError,
        "Could not find the runner corresponding to indicesType",
    )
    testing.check_raises(
        OP, [d, i.astype(np.float32), s], DTypeError, "Could not find the runner"
    )
    testing.check_raises(
        OP,
        [np.array(1.0, np.float32), i, s],
        ShapeError,
        "X0 has to be at least the vector",
    )
    testing.check_raises(OP, [d, i, s[:1]], ShapeError, "slices.numel")
    testing.check_raises(
        OP,
        [d, np.array([0, 3]), s],
        EnforceError,
        "Index out of bounds: 3, range 0 to 3",
    )
    with pytest.raises(SchemaError, match="not in-place"):
        testing.check_reference(
            CreateOperator("ScatterAssign", ["D", "I", "S"], ["E"]), [d, i, s], naive
        )


def test_gradient_decision():
    assert registry.GRADIENTS["ScatterAssign"].kind == registry.SHOULD_NOT_DO


def test_read_only_data_is_copied_not_written():
    kernel = registry.lookup("ScatterAssign").kernel
    base = np.zeros(2, np.float32)
    view = np.broadcast_to(base, (3, 2))  # read-only
    (y,) = kernel(view, np.array([2]), np.ones((1, 2), np.float32))
    assert y.tolist() == [[0, 0], [0, 0], [1, 1]] and not base.any()
    frozen = np.zeros((2, 2), np.float32)
    frozen.flags.writeable = False
    (y,) = kernel(frozen, np.array([0]), np.ones((1, 2), np.float32))
    assert y.tolist() == [[1, 1], [0, 0]] and not frozen.any()
