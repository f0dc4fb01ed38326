from __future__ import annotations

import numpy as np
from c2l_test_support.segments import (
    BLOCKS,
    FLOATS,
    LENGTHS,
    SEEDS,
    naive_segment_sums,
    segment_data,
)
from c2l_test_support.segments import naive_weighted_gradients as naive_gradients
from hypothesis import given, settings

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError


def naive_weighted_sum(data, scalars, lengths):
    return [naive_segment_sums(data, lengths, weights=scalars).astype(data.dtype)]


@settings(max_examples=30, deadline=None)
@given(lengths=LENGTHS, block=BLOCKS, dtype=FLOATS, seed=SEEDS)
def test_matches_naive_loop(lengths, block, dtype, seed):
    rng, data, lens = segment_data(lengths, block, dtype, seed)
    scalars = rng.standard_normal(len(data)).astype(dtype)
    testing.check_reference(
        CreateOperator("LengthsWeightedSum", ["D", "S", "L"], ["O"]),
        [data, scalars, lens],
        naive_weighted_sum,
        atol=1e-5,
    )
    grads = rng.standard_normal((len(lengths),) + tuple(block)).astype(dtype)
    testing.check_reference(
        CreateOperator("LengthsWeightedSumGradient", ["S", "G", "L"], ["DG"]),
        [scalars, grads, lens],
        naive_gradients,
        atol=1e-6,
    )
    testing.check_reference(
        CreateOperator(
            "LengthsWeightedSumWithMainInputGradient",
            ["S", "G", "L", "D"],
            ["DG", "SG"],
        ),
        [scalars, grads, lens, data],
        naive_gradients,
        atol=1e-5,
    )
    testing.check_reference(
        CreateOperator(
            "LengthsWeightedSumWithMainInputGradient", ["S", "G", "L", "D"], ["DG"]
        ),
        [scalars, grads, lens, data],
        lambda s, g, l, d: naive_gradients(s, g, l),
        atol=1e-6,
    )


def test_doc_example():
    testing.check_reference(
        CreateOperator("LengthsWeightedSum", ["D", "S", "L"], ["O"]),
        [
            np.array([2, 4, 3, 1, 2, 10], np.float32),
            np.array([8, 2, 1, 4, 1, 0.6], np.float32),
            np.array([2, 3, 1], np.int32),
        ],
        lambda d, s, l: [np.array([24, 9, 6], np.float32)],
    )


def test_errors():
    op = CreateOperator("LengthsWeightedSum", ["D", "S", "L"], ["O"])
    data, lens = np.ones((3, 2), np.float32), np.array([3], np.int32)
    testing.check_raises(
        op,
        [data, np.ones(2, np.float32), lens],
        EnforceError,
        "Input 1 must have the same first dim as SEGMENT_IDS",
    )
    testing.check_raises(
        op,
        [data, np.ones((3, 1), np.float32), lens],
        ShapeError,
        "SCALARS mustn't have extra dimensions",
    )
    testing.check_raises(
        op,
        [data, np.ones(3, np.float64), lens],
        DTypeError,
        "caller expects elements to be float while tensor contains double",
    )
    testing.check_raises(
        op,
        [data, np.ones(3, np.float32), np.array([[3]], np.int32)],
        ShapeError,
        "LENGTHS must be a vector",
    )
    testing.check_raises(
        op,
        [data, np.ones(3, np.float32), np.array([2], np.int32)],
        EnforceError,
        "2 != 3",
    )
    grad_op = CreateOperator("LengthsWeightedSumGradient", ["S", "G", "L"], ["DG"])
    testing.check_raises(
        grad_op,
        [np.ones(2, np.float32), np.ones((1, 2), np.float32), lens],
        EnforceError,
        "Input 0 must have the same first dim as SEGMENT_IDS",
    )


def test_gradient_makers_and_numeric_gradients():
    op = CreateOperator("LengthsWeightedSum", ["X", "S", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "LengthsWeightedSumGradient",
        ["S", "Y_grad", "L"],
        ["X_grad"],
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad" and grads.get("S") is None

    op = CreateOperator("LengthsWeightedSum", ["X", "S", "L"], ["Y"], grad_on_weights=1)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "LengthsWeightedSumWithMainInputGradient",
        ["S", "Y_grad", "L", "X"],
        ["X_grad", "S_grad"],
        grad_on_weights=1,
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert (str(grads["X"]), str(grads["S"])) == ("X_grad", "S_grad")

    rng = np.random.default_rng(6)
    lens = np.array([2, 0, 3], np.int32)
    inputs = [rng.standard_normal((5, 2)), rng.standard_normal(5), lens]
    testing.check_gradient(op, inputs, [0, 1])
    testing.check_gradient(
        CreateOperator("LengthsWeightedSum", ["X", "S", "L"], ["Y"]), inputs, 0
    )


def test_arguments_reach_the_gradient_op():
    op = CreateOperator("LengthsWeightedSum", ["X", "S", "L"], ["Y"], grad_on_weights=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    assert ops[0].type == "LengthsWeightedSumWithMainInputGradient"
    assert [(a.name, a.i) for a in ops[0].arg] == [("grad_on_weights", 1)]


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    f4, i4 = np.dtype(np.float32), np.dtype(np.int32)
    data, scalars, lengths = (
        TensorShape((6, 2), f4),
        TensorShape((6,), f4),
        TensorShape((3,), i4),
    )
    grads = TensorShape((3, 2), f4)
    assert _infer(
        "LengthsWeightedSum", ["D", "S", "L"], ["O"], [data, scalars, lengths]
    ) == [grads]
    assert _infer(
        "LengthsWeightedSumGradient", ["S", "G", "L"], ["dD"], [scalars, grads, lengths]
    ) == [TensorShape(("sum(LENGTHS)", 2), f4)]
    assert _infer(
        "LengthsWeightedSumWithMainInputGradient",
        ["S", "G", "L", "D"],
        ["dD", "dS"],
        [scalars, grads, lengths, data],
    ) == [data, scalars]
    assert _infer(
        "LengthsWeightedSumWithMainInputGradient",
        ["S", "G", "L", "D"],
        ["dD"],
        [scalars, grads, lengths, data],
    ) == [data]
