from __future__ import annotations

import re

import numpy as np
from c2l_test_support.kernels import embedding_kernels  # noqa: F401 (autouse)
from c2l_test_support.segments import (
    BLOCKS,
    INDEX_TYPES,
    LENGTHS,
    SEEDS,
    TABLE_ROWS,
    check_lengths_errors,
    naive_segment_sums,
    segment_data,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.gradient.backward import GradientSlice
from caffe2lite.workspace import Workspace


def naive_sparse_lengths_sum(data, indices, lengths):
    dtype = np.float32 if data.dtype == np.float16 else data.dtype
    return [naive_segment_sums(data, lengths, indices).astype(dtype)]


@settings(max_examples=30, deadline=None)
@given(
    lengths=LENGTHS,
    rows=TABLE_ROWS,
    block=BLOCKS,
    dtype=st.sampled_from([np.float32, np.float64, np.float16]),
    index_type=INDEX_TYPES,
    seed=SEEDS,
)
def test_matches_naive_loop(lengths, rows, block, dtype, index_type, seed):
    rng, data, lens = segment_data(lengths, block, dtype, seed, rows)
    indices = rng.integers(0, rows, int(lens.sum())).astype(index_type)
    testing.check_reference(
        CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"]),
        [data, indices, lens],
        naive_sparse_lengths_sum,
        atol=1e-5,
    )


def test_doc_example_and_edge_cases():
    op = CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"])
    data = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    testing.check_reference(
        op,
        [data, np.array([2, 0, 2]), np.array([2, 0, 1], np.int32)],
        lambda d, i, l: [np.array([[6, 8], [0, 0], [5, 6]], np.float32)],
    )
    # No indices at all, and an empty table with only empty segments.
    testing.check_reference(
        op,
        [data, np.zeros(0, np.int32), np.array([0, 0], np.int32)],
        lambda d, i, l: [np.zeros((2, 2), np.float32)],
    )
    testing.check_reference(
        op,
        [np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.array([0], np.int32)],
        lambda d, i, l: [np.zeros((1, 4), np.float32)],
    )
    testing.check_reference(
        op,
        [data, np.zeros(0, np.int32), np.zeros(0, np.int32)],
        lambda d, i, l: [np.zeros((0, 2), np.float32)],
    )


def test_large_input_long_segments_and_non_finite_rows():
    rng = np.random.default_rng(2)
    table = rng.standard_normal((500, 7)).astype(np.float32)
    lens = rng.integers(0, 50, 2000).astype(np.int32)
    lens[[3, 900]] = [30000, 12345]
    idx = rng.integers(0, 500, int(lens.sum()))
    op = CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"])
    testing.check_reference(
        op, [table, idx, lens], naive_sparse_lengths_sum, atol=2e-3, rtol=1e-4
    )
    # Rows with inf and nan affect only the segments that use them.
    table[0] = np.inf
    table[1] = np.nan
    idx = np.array([2, 0, 3, 1, 2, 3], np.int64)
    got = testing.check_reference(
        op, [table, idx, np.array([1, 2, 1, 2], np.int32)], naive_sparse_lengths_sum
    )[0]
    assert (
        np.isfinite(got[0]).all() and np.isinf(got[1]).all() and np.isnan(got[2]).all()
    )


def test_errors():
    op = CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"])
    data, lens = np.ones((4, 2), np.float32), np.array([1, 2], np.int32)
    idx = np.array([0, 1, 3], np.int64)
    testing.check_raises(
        op, [data, idx.reshape(3, 1), lens], ShapeError, "INDICES must be a vector"
    )
    check_lengths_errors(
        op, [data, idx], not_a_vector=[[1], [2]], wide=[1, 2], negative=[4, -1]
    )
    testing.check_raises(
        op,
        [data, idx.astype(np.float32), lens],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    testing.check_raises(
        op,
        [data.astype(np.int32), idx, lens],
        DTypeError,
        "Unsupported type of tensor: int",
    )
    testing.check_raises(
        op,
        [data, np.array([0, 4, 1]), lens],
        EnforceError,
        re.escape("Index 1 is out of bounds: 4, range 0 to 4"),
    )
    testing.check_raises(
        op,
        [data, np.array([0, 1, -1], np.int32), lens],
        EnforceError,
        re.escape("Index 2 is out of bounds: -1, range 0 to 4"),
    )
    testing.check_raises(
        op,
        [data, idx, np.array([1, 1], np.int32)],
        EnforceError,
        "the sum of lengths values should be the size of the indices tensor",
    )
    testing.check_raises(
        op,
        [data, idx, np.array([2, 2], np.int32)],
        EnforceError,
        "the sum of lengths values should be the size of the indices tensor",
    )
    # A bad index is reported before the length mismatch, as Caffe2's loop finds it.
    testing.check_raises(
        op,
        [data, np.array([9, 0, 0]), np.array([4], np.int32)],
        EnforceError,
        re.escape("Index 0 is out of bounds: 9, range 0 to 4"),
    )


def test_legacy_sparse_and_lengths_sum_gradient():
    rng = np.random.default_rng(3)
    grads = rng.standard_normal((4, 3, 2)).astype(np.float32)
    lens = np.array([3, 0, 2, 1], np.int32)
    outs = []
    for op_type in ("SparseLengthsSumGradient", "LengthsSumGradient"):
        ws = Workspace()
        ws.feed_blob("X", grads)
        ws.feed_blob("Y", lens)
        ws.run_operator_once(CreateOperator(op_type, ["X", "Y"], "out"))
        outs.append(ws.fetch_blob("out"))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], np.repeat(grads, lens, axis=0))
    ws = Workspace()
    for name, value in (("G", grads), ("L", lens), ("I", np.arange(6))):
        ws.feed_blob(name, value)
    ws.run_operator_once(
        CreateOperator(
            "SparseLengthsIndicesInGradientSumGradient", ["G", "L", "I"], "V"
        )
    )
    np.testing.assert_array_equal(ws.fetch_blob("V"), outs[0])


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator("SparseLengthsSum", ["X", "I", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "SparseLengthsIndicesInGradientSumGradient",
        ["Y_grad", "L", "I"],
        ["X_grad_values"],
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert isinstance(grads["X"], GradientSlice)
    assert (str(grads["X"].indices), str(grads["X"].values)) == ("I", "X_grad_values")
    assert grads.get("I") is None and grads.get("L") is None
    rng = np.random.default_rng(7)
    data = rng.standard_normal((5, 3))
    testing.check_gradient(
        op, [data, np.array([4, 0, 4, 1, 4]), np.array([2, 0, 3], np.int32)], 0
    )


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 40), max_size=30),
    block=st.integers(1, 3),
    weighted=st.booleans(),
    half=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_small_chunks_exercise_every_kernel_path(lengths, block, weighted, half, seed):
    # A 64-row chunk makes groups, padding, runs of equal lengths and long segments
    # (split across chunks) all appear on small inputs.
    from caffe2lite.ops.segment import _segment_kernels

    rng = np.random.default_rng(seed)
    lens = np.array(lengths, np.int32)
    if seed % 3 == 0 and lens.size:
        lens[:] = lens[0]  # one length everywhere: the contiguous path
    data = rng.standard_normal((7, block)).astype(np.float16 if half else np.float32)
    indices = rng.integers(0, 7, int(lens.sum()))
    weights = rng.standard_normal(indices.size).astype(np.float32)
    saved = _segment_kernels.SEQUENTIAL_CHUNK_BYTES
    _segment_kernels.SEQUENTIAL_CHUNK_BYTES = 64 * 4 * block
    try:
        if weighted:
            op = CreateOperator("SparseLengthsWeightedSum", ["D", "W", "I", "L"], ["O"])
            inputs = [data, weights, indices, lens]
            want = np.zeros((len(lens), block))
            j = 0
            for s, n in enumerate(lens.tolist()):
                for _ in range(n):
                    want[s] += float(weights[j]) * data[indices[j]].astype(np.float64)
                    j += 1
            reference = [want.astype(np.float32)]
        else:
            op = CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"])
            inputs = [data, indices, lens]
            reference = naive_sparse_lengths_sum(data, indices, lens)
        testing.check_reference(op, inputs, lambda *a: reference, atol=1e-4, rtol=1e-4)
    finally:
        _segment_kernels.SEQUENTIAL_CHUNK_BYTES = saved


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference_and_cost():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f8, i8, i4 = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int32)
    data, idx, lengths = (
        TensorShape((5, 3), f8),
        TensorShape((7,), i8),
        TensorShape((2,), i4),
    )
    assert _infer("SparseLengthsSum", ["D", "I", "L"], ["O"], [data, idx, lengths]) == [
        TensorShape((2, 3), f8)
    ]
    op = CreateOperator("SparseLengthsSum", ["D", "I", "L"], ["O"])
    # Caffe2: 7 * 3 flops; 7 rows of 3 values and 7 indices read (4 bytes each
    # whatever the type), 2 lengths; the table as parameters; nothing written
    assert op_cost(op, [data, idx, lengths]) == Cost(21, 7 * (12 + 4) + 8, 0, 60)
    assert op_cost(op, [TensorShape((0, 3), f8), idx, lengths]) == Cost()
    grads = TensorShape((2, 3), f8)
    want = [TensorShape(("sum(LENGTHS)", 3), f8)]
    assert (
        _infer("SparseLengthsSumGradient", ["G", "L"], ["dD"], [grads, lengths]) == want
    )
    assert (
        _infer(
            "SparseLengthsIndicesInGradientSumGradient",
            ["G", "L", "I"],
            ["dD"],
            [grads, lengths, idx],
        )
        == want
    )
