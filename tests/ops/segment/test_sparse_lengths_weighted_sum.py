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
    naive_segment_sums,
    segment_data,
)
from c2l_test_support.segments import naive_weighted_gradients as naive_gradients
from hypothesis import given, settings

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.gradient.backward import GradientSlice
from caffe2lite.workspace import Workspace


def naive_slws(data, weights, indices, lengths):
    dtype = np.float32 if data.dtype == np.float16 else data.dtype
    return [naive_segment_sums(data, lengths, indices, weights).astype(dtype)]


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
    n = int(lens.sum())
    weights = rng.standard_normal(n).astype(dtype)
    indices = rng.integers(0, rows, n).astype(index_type)
    testing.check_reference(
        CreateOperator("SparseLengthsWeightedSum", ["D", "W", "I", "L"], ["O"]),
        [data, weights, indices, lens],
        naive_slws,
        atol=1e-5,
    )
    grads = rng.standard_normal((len(lengths),) + tuple(block)).astype(dtype)
    for op_type, ins in (
        ("SparseLengthsIndicesInGradientWeightedSumGradient", ["W", "G", "L", "I"]),
        ("SparseLengthsWeightedSumGradient", ["W", "G", "L"]),
    ):
        testing.check_reference(
            CreateOperator(op_type, ins, ["V"]),
            [weights, grads, lens, indices][: len(ins)],
            lambda w, g, l, *rest: naive_gradients(w, g, l),
            atol=1e-6,
        )
    main_inputs = [weights, grads, lens, data, indices]
    for op_type in (
        "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
        "SparseLengthsWeightedSumWithMainInputGradient",
    ):
        testing.check_reference(
            CreateOperator(op_type, ["W", "G", "L", "D", "I"], ["V", "WG"]),
            main_inputs,
            naive_gradients,
            atol=1e-5,
        )
    testing.check_reference(
        CreateOperator(
            "SparseLengthsWeightedSumWithMainInputGradient",
            ["W", "G", "L", "D", "I"],
            ["V"],
        ),
        main_inputs,
        lambda w, g, l, d, i: naive_gradients(w, g, l),
        atol=1e-6,
    )


def test_doc_example_and_float16_table():
    op = CreateOperator("SparseLengthsWeightedSum", ["D", "W", "I", "L"], ["O"])
    data = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    args = [
        np.array([1, 2, 0.5], np.float32),
        np.array([2, 0, 2]),
        np.array([2, 0, 1], np.int32),
    ]
    want = np.array([[7, 10], [0, 0], [2.5, 3]], np.float32)
    testing.check_reference(op, [data] + args, lambda *a: [want], atol=0)
    testing.check_reference(
        op, [data.astype(np.float16)] + args, lambda *a: [want], atol=0
    )
    testing.check_raises(
        op,
        [data.astype(np.float16), args[0].astype(np.float16)] + args[1:],
        DTypeError,
        "caller expects elements to be float while tensor contains c10::Half",
    )


def test_errors():
    op = CreateOperator("SparseLengthsWeightedSum", ["D", "W", "I", "L"], ["O"])
    data, idx, lens = (
        np.ones((3, 2), np.float32),
        np.array([0, 2]),
        np.array([2], np.int32),
    )
    testing.check_raises(
        op,
        [data, np.ones(3, np.float32), idx, lens],
        EnforceError,
        re.escape("Weight should have the same length as indices."),
    )
    testing.check_raises(
        op,
        [data, np.ones((2, 1), np.float32), idx, lens],
        ShapeError,
        "WEIGHT must be a vector",
    )
    testing.check_raises(
        op,
        [data, np.ones(2, np.float64), idx, lens],
        DTypeError,
        "caller expects elements to be float while tensor contains double",
    )
    testing.check_raises(
        op,
        [data, np.ones(2, np.float32), np.array([0, 5]), lens],
        EnforceError,
        re.escape("Index 1 is out of bounds: 5, range 0 to 3"),
    )
    testing.check_raises(
        op,
        [data, np.ones(2, np.float32), idx, np.array([1], np.int32)],
        EnforceError,
        "the sum of lengths values should be",
    )
    grad_op = CreateOperator(
        "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
        ["W", "G", "L", "D", "I"],
        ["V", "WG"],
    )
    testing.check_raises(
        grad_op,
        [
            np.ones(2, np.float32),
            np.ones((1, 2), np.float32),
            lens,
            data,
            np.array([0, 7]),
        ],
        EnforceError,
        re.escape("Index 1 is out of bounds: 7, range 0 to 3"),
    )


def test_gradient_makers_and_numeric_gradients():
    op = CreateOperator("SparseLengthsWeightedSum", ["X", "W", "I", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "SparseLengthsIndicesInGradientWeightedSumGradient",
        ["W", "Y_grad", "L", "I"],
        ["X_grad_values"],
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert grads["X"] == GradientSlice("I", "X_grad_values") and grads.get("W") is None

    op = CreateOperator(
        "SparseLengthsWeightedSum", ["X", "W", "I", "L"], ["Y"], grad_on_weights=1
    )
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
        ["W", "Y_grad", "L", "X", "I"],
        ["X_grad_values", "W_grad"],
        grad_on_weights=1,
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert (
        grads["X"] == GradientSlice("I", "X_grad_values")
        and str(grads["W"]) == "W_grad"
    )

    rng = np.random.default_rng(9)
    inputs = [
        rng.standard_normal((4, 3)),
        rng.standard_normal(6),
        np.array([1, 1, 3, 0, 2, 1], np.int64),
        np.array([2, 0, 3, 1], np.int32),
    ]
    testing.check_gradient(op, inputs, [0, 1])


def test_weights_gradient_of_an_empty_block_is_zero():
    """DATA rows of block size 0: every WEIGHTS_GRAD entry is an empty dot product,
    0 (numpy 1.23's einsum once left such a sum uninitialised: NaN in CI)."""
    weights = np.arange(1, 15, dtype=np.float32)
    lengths = np.array([0, 5, 2, 0, 0, 3, 4], np.int32)
    data = np.zeros((1, 0, 0), np.float32)
    grads = np.zeros((7, 0, 0), np.float32)
    indices = np.zeros(14, np.int32)
    for op_type in (
        "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
        "SparseLengthsWeightedSumWithMainInputGradient",
    ):
        for _ in range(20):
            ws = Workspace()
            for name, value in zip("WGLDI", (weights, grads, lengths, data, indices)):
                ws.feed_blob(name, value)
            ws.run_operator_once(
                CreateOperator(op_type, ["W", "G", "L", "D", "I"], ["V", "WG"])
            )
            wg = ws.fetch_blob("WG")
            assert wg.dtype == np.float32 and wg.shape == (14,)
            np.testing.assert_array_equal(wg, np.zeros(14, np.float32))
            assert ws.fetch_blob("V").shape == (14, 0, 0)


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

    f4, i8, i4 = np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.int32)
    data, w = TensorShape((5, 2), f4), TensorShape((4,), f4)
    idx, lengths = TensorShape((4,), i8), TensorShape((3,), i4)
    ins = ["D", "W", "I", "L"]
    assert _infer("SparseLengthsWeightedSum", ins, ["O"], [data, w, idx, lengths]) == [
        TensorShape((3, 2), f4)
    ]
    op = CreateOperator("SparseLengthsWeightedSum", ins, ["O"])
    # weights double the flops and add one value read per index
    assert op_cost(op, [data, w, idx, lengths]) == Cost(16, 4 * 12 + 12 + 16, 0, 40)
    grads = TensorShape((3, 2), f4)
    rows = TensorShape(("sum(LENGTHS)", 2), f4)
    assert _infer(
        "SparseLengthsWeightedSumGradient", ["W", "G", "L"], ["dD"], [w, grads, lengths]
    ) == [rows]
    assert _infer(
        "SparseLengthsIndicesInGradientWeightedSumGradient",
        ["W", "G", "L", "I"],
        ["dD"],
        [w, grads, lengths, idx],
    ) == [rows]
    for t in (
        "SparseLengthsWeightedSumWithMainInputGradient",
        "SparseLengthsIndicesInGradientWeightedSumWithMainInputGradient",
    ):
        got = _infer(
            t, ["W", "G", "L", "D", "I"], ["dD", "dW"], [w, grads, lengths, data, idx]
        )
        assert got == [TensorShape((4, 2), f4), w]
