from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError


def naive_lengths_tile(data, lengths):
    rows = []
    for i, n in enumerate(lengths.tolist()):
        rows.extend([data[i]] * n)
    return [
        np.array(rows, data.dtype).reshape((sum(lengths.tolist()),) + data.shape[1:])
    ]


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 4), max_size=6),
    block=st.lists(st.integers(0, 3), max_size=2),
    dtype=st.sampled_from([np.float32, np.float64, np.int64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(lengths, block, dtype, seed):
    rng = np.random.default_rng(seed)
    data = (rng.standard_normal((len(lengths),) + tuple(block)) * 9).astype(dtype)
    testing.check_reference(
        CreateOperator("LengthsTile", ["D", "L"], ["O"]),
        [data, np.array(lengths, np.int32)],
        naive_lengths_tile,
        atol=0,
    )


def test_doc_example_and_errors():
    op = CreateOperator("LengthsTile", ["D", "L"], ["O"])
    data = np.array([[1.0, 1.2], [2.3, 3.4], [4.5, 5.7], [6.8, 7.9]], np.float32)
    lens = np.array([0, 1, 3, 2], np.int32)
    testing.check_reference(
        op, [data, lens], lambda d, l: [data[[1, 2, 2, 2, 3, 3]]], atol=0
    )
    testing.check_raises(
        op, [data, lens.reshape(2, 2)], ShapeError, "LENGTHS must be 1-D"
    )
    testing.check_raises(
        op,
        [np.array(1.0, np.float32), np.array([1], np.int32)],
        ShapeError,
        "DATA should be at least 1-D",
    )
    testing.check_raises(
        op, [data, lens[:3]], EnforceError, re.escape("lengths.numel() == data.size(0)")
    )
    testing.check_raises(
        op,
        [data, lens.astype(np.int64)],
        DTypeError,
        "caller expects elements to be int while tensor contains long",
    )
    testing.check_raises(
        op, [data, np.array([0, 1, -3, 2], np.int32)], EnforceError, "length >= 0"
    )


def test_gradient_is_a_lengths_sum():
    op = CreateOperator("LengthsTile", ["X", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("LengthsSum", ["Y_grad", "L"], ["X_grad"])
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"
    rng = np.random.default_rng(3)
    testing.check_gradient(
        op, [rng.standard_normal((4, 2)), np.array([2, 0, 3, 1], np.int32)], 0
    )


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    data = TensorShape((4, 2), np.int64)
    assert _infer(
        "LengthsTile", ["D", "L"], ["O"], [data, TensorShape((4,), np.int32)]
    ) == [TensorShape(("sum(LENGTHS)", 2), np.int64)]
