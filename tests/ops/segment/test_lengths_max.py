from __future__ import annotations

import re

import numpy as np
from c2l_test_support.segments import check_lengths_errors
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError


def naive_lengths_max(data, lengths):
    out = np.zeros((len(lengths),) + data.shape[1:], data.dtype)
    row = 0
    for s, n in enumerate(lengths.tolist()):
        for k in range(n):
            out[s] = data[row] if k == 0 else np.maximum(out[s], data[row])
            row += 1
    return [out]


def naive_max_gradient(out, grads, lengths, data):
    result = np.zeros(data.shape, data.dtype)
    block = int(np.prod(data.shape[1:]))
    flat_out = out.reshape(len(lengths), block)
    flat_g = grads.reshape(len(lengths), block)
    flat = result.reshape(data.shape[0], block)
    flat_d = data.reshape(data.shape[0], block)
    row = 0
    for s, n in enumerate(lengths.tolist()):
        for _ in range(n):
            for e in range(flat.shape[1]):
                if flat_d[row, e] == flat_out[s, e]:
                    flat[row, e] = flat_g[s, e]
            row += 1
    return [result]


@settings(max_examples=30, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 5), max_size=7),
    block=st.lists(st.integers(0, 3), max_size=2),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**16),
)
def test_matches_naive_loop(lengths, block, dtype, seed):
    rng = np.random.default_rng(seed)
    lens = np.array(lengths, np.int32)
    # Small integers make ties, which all receive the gradient.
    data = rng.integers(-3, 3, (int(lens.sum()),) + tuple(block)).astype(dtype)
    out = testing.check_reference(
        CreateOperator("LengthsMax", ["D", "L"], ["O"]),
        [data, lens],
        naive_lengths_max,
        atol=0,
    )[0]
    grads = rng.standard_normal(out.shape).astype(dtype)
    testing.check_reference(
        CreateOperator(
            "LengthsMaxWithMainInputAndForwardOutputGradient",
            ["O", "G", "L", "D"],
            ["DG"],
        ),
        [out, grads, lens, data],
        naive_max_gradient,
        atol=0,
    )


def test_doc_example_empty_segments_give_zero():
    op = CreateOperator("LengthsMax", ["D", "L"], ["O"])
    testing.check_reference(
        op,
        [np.array([2, 4, 3, 1, 2, 10], np.float32), np.array([2, 3, 1], np.int32)],
        lambda d, l: [np.array([4, 3, 10], np.float32)],
        atol=0,
    )
    testing.check_reference(
        op,
        [np.array([[-5, -6]], np.float32), np.array([0, 1, 0], np.int32)],
        lambda d, l: [np.array([[0, 0], [-5, -6], [0, 0]], np.float32)],
        atol=0,
    )


def test_errors():
    op = CreateOperator("LengthsMax", ["D", "L"], ["O"])
    data = np.ones((2, 2), np.float32)
    check_lengths_errors(
        op,
        [data],
        not_a_vector=[[2]],
        wide=[2],
        negative=[3, -1],
        long_message="while tensor contains long",
    )
    testing.check_raises(
        op,
        [data, np.array([1, 2], np.int32)],
        EnforceError,
        re.escape(
            "When calculating the 1th output with length=2, the index is out of bounds: 2 vs. "
            "valid range 0 to 2"
        ),
    )
    grad_op = CreateOperator(
        "LengthsMaxWithMainInputAndForwardOutputGradient", ["O", "G", "L", "D"], ["DG"]
    )
    lens = np.array([2], np.int32)
    testing.check_raises(
        grad_op,
        [np.ones((2, 2), np.float32), np.ones((1, 2), np.float32), lens, data],
        EnforceError,
        re.escape("numSegments == forwardOutputInput.size(0)"),
    )
    testing.check_raises(
        grad_op,
        [np.ones((1, 2), np.float32), np.ones((2, 2), np.float32), lens, data],
        EnforceError,
        re.escape("numSegments == segmentGrads.dim(0)"),
    )
    testing.check_raises(
        grad_op,
        [
            np.ones((1, 2), np.float32),
            np.ones((1, 2), np.float32),
            lens,
            data.astype(np.float64),
        ],
        DTypeError,
        "caller expects elements to be float while tensor contains double",
    )


def test_gradient_maker_and_numeric_gradient():
    op = CreateOperator("LengthsMax", ["X", "L"], ["Y"])
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator(
        "LengthsMaxWithMainInputAndForwardOutputGradient",
        ["Y", "Y_grad", "L", "X"],
        ["X_grad"],
    )
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"
    # Distinct values: the max is differentiable there.
    data = np.random.default_rng(5).permutation(24).reshape(8, 3) / 7.0
    testing.check_gradient(op, [data, np.array([3, 0, 4, 1], np.int32)], 0)


# -- shape and cost inference ---------------------------------------------------------


def _infer(op_type, ins, outs, shapes, **kw):
    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op

    return infer_op(CreateOperator(op_type, ins, outs, **kw), shapes)


def test_shape_inference():
    import numpy as np

    from caffe2lite.schema.shapes import TensorShape

    f4, i4 = np.dtype(np.float32), np.dtype(np.int32)
    data, lengths = TensorShape((6, 2), f4), TensorShape((3,), i4)
    out = TensorShape((3, 2), f4)
    assert _infer("LengthsMax", ["D", "L"], ["O"], [data, lengths]) == [out]
    assert _infer(
        "LengthsMaxWithMainInputAndForwardOutputGradient",
        ["O", "G", "L", "D"],
        ["dD"],
        [out, out, lengths, data],
    ) == [data]
