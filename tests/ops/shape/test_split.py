from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.workspace import Workspace


def naive_split(x, sizes, axis, add_axis=False):
    """Walk the axis and copy element by element into each piece."""
    ax = axis + x.ndim if axis < 0 else axis
    outs, start = [], 0
    for size in sizes:
        width = 1 if add_axis else size
        shape = list(x.shape)
        if add_axis:
            del shape[ax]
        else:
            shape[ax] = size
        out = np.empty(shape, dtype=x.dtype)
        for idx in np.ndindex(*shape):
            src = list(idx)
            if add_axis:
                src.insert(ax, start)
            else:
                src[ax] += start
            out[idx] = x[tuple(src)]
        outs.append(out)
        start += width
    return outs


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3),
       sizes=st.lists(st.integers(0, 3), min_size=1, max_size=4), data=st.data(),
       how=st.sampled_from(["arg", "input"]), seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, sizes, data, how, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    shape[axis] = sum(sizes)
    x = np.asarray(np.random.default_rng(seed).integers(0, 9, shape), dtype=np.int32)
    outs = [f"Y{i}" for i in range(len(sizes))]
    if how == "arg":
        op = CreateOperator("Split", ["X"], outs, axis=axis, split=sizes)
        inputs = [x]
    else:
        op = CreateOperator("Split", ["X", "S"], outs, axis=axis)
        inputs = [x, np.array(sizes, np.int32)]
    testing.check_reference(op, inputs, lambda *v: naive_split(x, sizes, axis))


def test_equal_parts_default_axis_and_add_axis():
    x = np.arange(24, dtype=np.float32).reshape(2, 6, 2)
    testing.check_reference(CreateOperator("Split", ["X"], ["a", "b", "c"]), [x],
                            lambda v: naive_split(x, [2, 2, 2], 1))
    testing.check_reference(CreateOperator("Split", ["X"], ["a", "b"], order="NHWC"),
                            [np.ones((1, 1, 1, 4), np.float32)],
                            lambda v: naive_split(v, [2, 2], 3))
    y = np.arange(6, dtype=np.float32).reshape(2, 3)
    op = CreateOperator("Split", ["Y", "S"], ["a", "b", "c"], axis=1, add_axis=1)
    testing.check_reference(op, [y, np.ones(3, np.int32)],
                            lambda *v: naive_split(y, [1, 1, 1], 1, add_axis=True))


def test_round_trip_with_concat():
    ws = Workspace()
    ws.feed_blob("A", np.ones((2, 1), np.float32))
    ws.feed_blob("B", np.zeros((2, 3), np.float32))
    ws.run_operator_once(CreateOperator("Concat", ["A", "B"], ["Y", "info"], axis=1))
    ws.run_operator_once(CreateOperator("Split", ["Y", "info"], ["A2", "B2"], axis=1))
    np.testing.assert_array_equal(ws.fetch_blob("A2"), ws.fetch_blob("A"))
    np.testing.assert_array_equal(ws.fetch_blob("B2"), ws.fetch_blob("B"))


def m(text):
    return re.escape(text)


def test_errors():
    x = np.ones((2, 5), np.float32)
    testing.check_raises(CreateOperator("Split", ["X"], ["a", "b"], axis=1), [x], ShapeError,
                         m("input_channels % OutputSize() == 0. 1 vs 0. If you did not specify "
                           "split explicitly, the number of input channels should be divisible "
                           "by the output size."))
    testing.check_raises(CreateOperator("Split", ["X"], ["a", "b"], axis=1, split=[1, 2, 2]),
                         [x], ShapeError, m("split_.size() == OutputSize(). 3 vs 2. The number "
                                            "of splits specified should be equal to the number "
                                            "of outputs."))
    testing.check_raises(CreateOperator("Split", ["X"], ["a", "b"], axis=1, split=[1, 2]),
                         [x], ShapeError, m("Sum of split dimensions do not match: should be 5"))
    testing.check_raises(CreateOperator("Split", ["X", "S"], ["a", "b"], axis=1, split=[2, 3]),
                         [x, np.array([2, 3], np.int32)], ShapeError,
                         m("If you set split with an input blob, do not pass in split in the "
                           "argument."))
    testing.check_raises(CreateOperator("Split", ["X", "S"], ["a", "b"], axis=1),
                         [x, np.array([5], np.int32)], ShapeError,
                         m("split_tensor.numel() == OutputSize(). 1 vs 2"))
    testing.check_raises(CreateOperator("Split", ["X", "S"], ["a", "b"], axis=1),
                         [x, np.array([2, 3], np.int64)], DTypeError,
                         "caller expects elements to be int while tensor contains long")
    testing.check_raises(CreateOperator("Split", ["X"], ["a", "b"], axis=1, split=[6, -1]),
                         [x], ShapeError, "Split sizes must not be negative")
    testing.check_raises(CreateOperator("Split", ["X"], ["a"], axis=2), [x], ShapeError,
                         m("axis_index < ndims. 2 vs 2"))
    testing.check_raises(CreateOperator("Split", ["X"], ["a"], axis=1, order="NCHW"), [x],
                         EnforceError, m("You shouldn't specify both the dim to split"))


@pytest.mark.parametrize("kw", [{"axis": 0, "split": [1, 2]}, {"axis": 1, "split": [2, 0, 1]}])
def test_numeric_gradient(kw):
    x = np.random.default_rng(6).standard_normal((3, 3))
    outs = [f"Y{i}" for i in range(len(kw["split"]))]
    testing.check_gradient(CreateOperator("Split", ["X"], outs, **kw), [x], 0)


def test_gradient_ops_list():
    op = CreateOperator("Split", ["X"], ["a", "b", "c"], axis=0)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"a": "a_grad", "c": "c_grad"})
    want = CreateOperator("Concat", ["a_grad", "c_grad"], ["X_grad", "_X_grad_dims"], axis=0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"


# -- add_axis on a 1-D input gives 0-d pieces (as Caffe2) ----------------------------


def test_add_axis_of_a_vector_gives_0d_pieces():
    ws = Workspace()
    ws.feed_blob("X", np.array([1.5, 2.5, 3.5], np.float32))
    ws.run_operator_once(
        CreateOperator("Split", ["X"], ["a", "b", "c"], axis=0, add_axis=1)
    )
    for name, value in zip("abc", (1.5, 2.5, 3.5)):
        piece = ws.fetch_blob(name)
        assert (
            isinstance(piece, np.ndarray)
            and piece.shape == ()
            and piece.dtype == np.float32
        )
        assert piece == value
        assert piece.flags.c_contiguous and piece.flags.owndata


def test_gradient_of_concat_add_axis_over_scalars_has_scalar_shape():
    op = CreateOperator("Concat", ["a", "b", "c"], ["y", "info"], axis=0, add_axis=1)
    ops, _ = GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    assert [(o.type, list(o.input), list(o.output)) for o in ops] == [
        ("Split", ["y_grad", "info"], ["a_grad", "b_grad", "c_grad"])
    ]
    ws = Workspace()
    ws.feed_blob("info", np.ones(3, np.int32))
    ws.feed_blob("y_grad", np.array([1.0, 2.0, 3.0]))
    ws.run_operator_once(ops[0])
    # y = [a, b, c], so d<y_grad, y>/da = y_grad[0] ...: each a 0-d tensor like its input
    for name, want in zip(("a_grad", "b_grad", "c_grad"), (1.0, 2.0, 3.0)):
        got = ws.fetch_blob(name)
        assert got.shape == () and got == want


def test_add_axis_of_a_matrix_keeps_the_other_axis():
    x = np.arange(6, dtype=np.int32).reshape(3, 2)
    ws = Workspace()
    ws.feed_blob("X", x)
    ws.run_operator_once(CreateOperator("Split", ["X"], ["a", "b"], axis=1, add_axis=1))
    np.testing.assert_array_equal(ws.fetch_blob("a"), [0, 2, 4])
    assert ws.fetch_blob("b").flags.c_contiguous


# -- shape inference ------------------------------------------------------------------


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4 = np.dtype(np.float32)
    x = TensorShape((2, 9), f4)
    op = CreateOperator("Split", ["X"], ["a", "b", "c"], axis=1, split=[3, 2, 4])
    assert infer_op(op, [x]) == [TensorShape((2, d), f4) for d in (3, 2, 4)]
    equal = CreateOperator("Split", ["X"], ["a", "b", "c"], axis=1)
    assert infer_op(equal, [x]) == [TensorShape((2, 3), f4)] * 3
    added = CreateOperator("Split", ["X"], ["a", "b"], axis=0, add_axis=1)
    assert infer_op(added, [x]) == [TensorShape((9,), f4)] * 2
    assert infer_op(added, [TensorShape((2,), f4)]) == [TensorShape((), f4)] * 2
    by_input = CreateOperator("Split", ["X", "S"], ["a", "b"], axis=1)
    assert infer_op(by_input, [x, TensorShape((2,), np.int32)]) == [
        TensorShape((2, "split[0]"), f4),
        TensorShape((2, "split[1]"), f4),
    ]
    nchw = CreateOperator("Split", ["X"], ["a", "b"])  # order NCHW: axis 1
    assert (
        infer_op(nchw, [TensorShape((1, 4, 2, 2), f4)])
        == [TensorShape((1, 2, 2, 2), f4)] * 2
    )
    with pytest.raises(ShapeError, match="should be divisible"):
        infer_op(
            CreateOperator("Split", ["X"], ["a", "b"], axis=1),
            [TensorShape((2, 3), f4)],
        )
    with pytest.raises(ShapeError, match="do not match: should be 9"):
        infer_op(CreateOperator("Split", ["X"], ["a", "b"], axis=1, split=[4, 4]), [x])


def test_depth_split_is_split_under_its_old_name():
    x = np.arange(24, dtype=np.float32).reshape(1, 6, 2, 2)
    ws = Workspace()
    ws.feed_blob("x", x)
    ws.run_operator_once(CreateOperator("DepthSplit", ["x"], ["a", "b"], dimensions=[3, 3],
                                        order="NCHW"))
    np.testing.assert_array_equal(ws.fetch_blob("a"), x[:, :3])
    np.testing.assert_array_equal(ws.fetch_blob("b"), x[:, 3:])
    op = CreateOperator("DepthSplit", ["x"], ["a", "b"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"a": "a_grad", "b": "b_grad"})
    assert [o.type for o in ops] == ["Concat"]
