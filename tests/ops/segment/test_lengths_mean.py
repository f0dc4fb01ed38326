from __future__ import annotations

import re

import numpy as np
from c2l_test_support.segments import (
    BLOCKS,
    FLOATS,
    LENGTHS,
    SEEDS,
    check_lengths_errors,
    naive_mean_gradient,
    naive_segment_means,
    segment_data,
)
from hypothesis import given, settings

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError


def naive_lengths_mean(data, lengths):
    return [naive_segment_means(data, lengths).astype(data.dtype)]


@settings(max_examples=30, deadline=None)
@given(lengths=LENGTHS, block=BLOCKS, dtype=FLOATS, seed=SEEDS)
def test_matches_naive_loop(lengths, block, dtype, seed):
    rng, data, lens = segment_data(lengths, block, dtype, seed)
    testing.check_reference(
        CreateOperator("LengthsMean", ["D", "L"], ["O"]),
        [data, lens],
        naive_lengths_mean,
        atol=1e-5,
    )
    grads = rng.standard_normal((len(lengths),) + tuple(block)).astype(dtype)
    testing.check_reference(
        CreateOperator("LengthsIndicesInGradientMeanGradient", ["G", "L", "D"], ["DG"]),
        [grads, lens, data],
        lambda g, l, d: naive_mean_gradient(g, l),
        atol=1e-6,
    )
    testing.check_reference(
        CreateOperator("LengthsMeanGradient", ["G", "L"], ["DG"]),
        [grads, lens],
        naive_mean_gradient,
        atol=1e-6,
    )


def test_doc_example_and_empty_segment():
    op = CreateOperator("LengthsMean", ["D", "L"], ["O"])
    testing.check_reference(
        op,
        [np.array([2, 4, 3, 1, 2, 10], np.float32), np.array([2, 3, 1], np.int32)],
        lambda d, l: [np.array([3, 2, 10], np.float32)],
        atol=0,
    )
    testing.check_reference(
        op,
        [np.array([[1, 3], [5, 7]], np.float32), np.array([0, 2, 0], np.int32)],
        lambda d, l: [np.array([[0, 0], [3, 5], [0, 0]], np.float32)],
    )
    testing.check_reference(
        op,
        [np.zeros((0,), np.float32), np.array([0], np.int32)],
        lambda d, l: [np.zeros((1,), np.float32)],
    )


def test_errors():
    op = CreateOperator("LengthsMean", ["D", "L"], ["O"])
    data = np.ones(3, np.float32)
    check_lengths_errors(op, [data], not_a_vector=3, wide=[3], negative=[-1, 4])
    testing.check_raises(
        op,
        [np.ones(3, np.int64), np.array([3], np.int32)],
        DTypeError,
        re.escape("Unsupported input type: long."),
    )
    testing.check_raises(
        op,
        [data, np.array([4], np.int32)],
        EnforceError,
        re.escape(
            "When calculating the 0th output with length=4, the index is out of bounds: "
            "3 vs. valid range 0 to 3"
        ),
    )
    testing.check_raises(op, [data, np.array([1], np.int32)], EnforceError, "1 != 3")
    grad_op = CreateOperator("LengthsMeanGradient", ["G", "L"], ["DG"])
    testing.check_raises(
        grad_op,
        [np.ones((2, 2), np.int32), np.array([1, 1], np.int32)],
        DTypeError,
        "caller expects elements to be float while tensor contains int",
    )


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator("LengthsMean", ["X", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "LengthsIndicesInGradientMeanGradient", ["Y_grad", "L", "X"], ["X_grad"]
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"
    rng = np.random.default_rng(4)
    lens = np.array([3, 0, 1, 2], np.int32)
    testing.check_gradient(op, [rng.standard_normal((6, 2, 2)), lens], 0)


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    f8, i4 = np.dtype(np.float64), np.dtype(np.int32)
    data, lengths = TensorShape((6,), f8), TensorShape((3,), i4)
    assert _infer("LengthsMean", ["D", "L"], ["O"], [data, lengths]) == [
        TensorShape((3,), f8)
    ]
    want = [TensorShape(("sum(LENGTHS)",), f8)]
    grads = TensorShape((3,), f8)
    assert _infer("LengthsMeanGradient", ["G", "L"], ["dD"], [grads, lengths]) == want
    assert (
        _infer(
            "LengthsIndicesInGradientMeanGradient",
            ["G", "L", "D"],
            ["dD"],
            [grads, lengths, data],
        )
        == want
    )
