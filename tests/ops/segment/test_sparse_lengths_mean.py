from __future__ import annotations

import re

import numpy as np
from c2l_test_support.kernels import embedding_kernels  # noqa: F401 (autouse)
from c2l_test_support.segments import (
    BLOCKS,
    FLOATS,
    INDEX_TYPES,
    LENGTHS,
    SEEDS,
    TABLE_ROWS,
    naive_mean_gradient,
    naive_segment_means,
    segment_data,
)
from hypothesis import given, settings

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.gradient.backward import GradientSlice


def naive_sparse_lengths_mean(data, indices, lengths):
    return [naive_segment_means(data, lengths, indices).astype(data.dtype)]


@settings(max_examples=30, deadline=None)
@given(
    lengths=LENGTHS,
    rows=TABLE_ROWS,
    block=BLOCKS,
    dtype=FLOATS,
    index_type=INDEX_TYPES,
    seed=SEEDS,
)
def test_matches_naive_loop(lengths, rows, block, dtype, index_type, seed):
    rng, data, lens = segment_data(lengths, block, dtype, seed, rows)
    indices = rng.integers(0, rows, int(lens.sum())).astype(index_type)
    testing.check_reference(
        CreateOperator("SparseLengthsMean", ["D", "I", "L"], ["O"]),
        [data, indices, lens],
        naive_sparse_lengths_mean,
        atol=1e-5,
    )
    grads = rng.standard_normal((len(lengths),) + tuple(block)).astype(dtype)
    testing.check_reference(
        CreateOperator(
            "SparseLengthsIndicesInGradientMeanGradient", ["G", "L", "I"], ["V"]
        ),
        [grads, lens, indices],
        lambda g, l, i: naive_mean_gradient(g, l),
        atol=1e-6,
    )
    testing.check_reference(
        CreateOperator("SparseLengthsMeanGradient", ["G", "L"], ["V"]),
        [grads, lens],
        naive_mean_gradient,
        atol=1e-6,
    )


def test_doc_example_and_empty_segments():
    op = CreateOperator("SparseLengthsMean", ["D", "I", "L"], ["O"])
    data = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    testing.check_reference(
        op,
        [data, np.array([2, 0, 2]), np.array([2, 0, 1], np.int32)],
        lambda d, i, l: [np.array([[3, 4], [0, 0], [5, 6]], np.float32)],
    )
    testing.check_reference(
        op,
        [data, np.zeros(0, np.int64), np.array([0, 0, 0], np.int32)],
        lambda d, i, l: [np.zeros((3, 2), np.float32)],
    )


def test_errors():
    op = CreateOperator("SparseLengthsMean", ["D", "I", "L"], ["O"])
    data = np.ones((3, 2), np.float32)
    testing.check_raises(
        op,
        [data, np.array([[0]]), np.array([1], np.int32)],
        ShapeError,
        "INDICES must be a vector",
    )
    testing.check_raises(
        op,
        [data, np.array([0, 3]), np.array([2], np.int32)],
        EnforceError,
        re.escape("Index 1 is out of bounds: 3, range 0 to 3"),
    )
    testing.check_raises(
        op,
        [data, np.array([0, 1]), np.array([3], np.int32)],
        EnforceError,
        "the sum of lengths values should be the size of the indices tensor",
    )


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator("SparseLengthsMean", ["X", "I", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "SparseLengthsIndicesInGradientMeanGradient",
        ["Y_grad", "L", "I"],
        ["X_grad_values"],
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert grads["X"] == GradientSlice("I", "X_grad_values")
    rng = np.random.default_rng(8)
    testing.check_gradient(
        op,
        [
            rng.standard_normal((4, 2)),
            np.array([3, 3, 0, 1, 3], np.int32),
            np.array([1, 0, 4], np.int32),
        ],
        0,
    )


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

    f4, i4 = np.dtype(np.float32), np.dtype(np.int32)
    data, idx, lengths = (
        TensorShape((5,), f4),
        TensorShape((4,), i4),
        TensorShape((3,), i4),
    )
    assert _infer(
        "SparseLengthsMean", ["D", "I", "L"], ["O"], [data, idx, lengths]
    ) == [TensorShape((3,), f4)]
    op = CreateOperator("SparseLengthsMean", ["D", "I", "L"], ["O"])
    assert op_cost(op, [data, idx, lengths]) == Cost(4, 4 * 8 + 12, 0, 20)
    grads = TensorShape((3,), f4)
    assert _infer(
        "SparseLengthsMeanGradient", ["G", "L"], ["dD"], [grads, lengths]
    ) == [TensorShape(("sum(LENGTHS)",), f4)]
    assert _infer(
        "SparseLengthsIndicesInGradientMeanGradient",
        ["G", "L", "I"],
        ["dD"],
        [grads, lengths, idx],
    ) == [TensorShape(("sum(LENGTHS)",), f4)]
