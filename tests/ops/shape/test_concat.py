from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, GradientError, ShapeError


def naive_concat(*xs, axis=1, add_axis=False):
    """Copy element by element into place."""
    ndim = xs[0].ndim + (1 if add_axis else 0)
    ax = axis + ndim if axis < 0 else axis
    sizes = [1 if add_axis else x.shape[ax] for x in xs]
    shape = list(xs[0].shape)
    if add_axis:
        shape.insert(ax, len(xs))
    else:
        shape[ax] = sum(sizes)
    out = np.empty(shape, dtype=xs[0].dtype)
    offset = 0
    for x, size in zip(xs, sizes):
        for idx in np.ndindex(*x.shape):
            dst = list(idx)
            if add_axis:
                dst.insert(ax, offset)
            else:
                dst[ax] += offset
            out[tuple(dst)] = x[idx]
        offset += size
    return [out, np.array(sizes, dtype=np.int32)]


@settings(max_examples=30, deadline=None)
@given(shape=st.lists(st.integers(0, 3), min_size=1, max_size=3), n=st.integers(1, 4),
       data=st.data(), dtype=st.sampled_from([np.float32, np.int64, np.bool_]),
       seed=st.integers(0, 2**16))
def test_matches_naive_loop(shape, n, data, dtype, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    xs = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(0, 3))
        xs.append(np.asarray(rng.integers(0, 5, s), dtype=dtype))
    names = [f"X{i}" for i in range(n)]
    op = CreateOperator("Concat", names, ["Y", "split_info"], axis=axis)
    testing.check_reference(op, xs, lambda *v: naive_concat(*v, axis=axis))


@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3), n=st.integers(1, 3), data=st.data(),
       seed=st.integers(0, 2**16))
def test_add_axis_matches_naive_loop(shape, n, data, seed):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [rng.standard_normal(shape).astype(np.float32) for _ in range(n)]
    op = CreateOperator("Concat", [f"X{i}" for i in range(n)], ["Y", "split_info"],
                        axis=axis, add_axis=1)
    testing.check_reference(op, [np.asarray(x) for x in xs],
                            lambda *v: naive_concat(*v, axis=axis, add_axis=True))


def test_default_axis_order_and_one_output():
    a, b = np.ones((1, 2, 3, 4), np.float32), np.zeros((1, 3, 3, 4), np.float32)
    testing.check_reference(CreateOperator("Concat", ["A", "B"], ["Y"]), [a, b],
                            lambda *v: naive_concat(a, b, axis=1)[:1])
    c, d = np.ones((1, 2, 3, 4), np.float32), np.zeros((1, 2, 3, 2), np.float32)
    testing.check_reference(CreateOperator("Concat", ["C", "D"], ["Y", "S"], order="NHWC"),
                            [c, d], lambda *v: naive_concat(c, d, axis=3))
    # add_axis only counts when axis is given explicitly.
    testing.check_reference(CreateOperator("Concat", ["A", "B"], ["Y"], add_axis=1), [a, b],
                            lambda *v: naive_concat(a, b, axis=1)[:1])


def test_strings():
    a = np.array([b"a", b"b"], dtype=object)
    b = np.array([b"c"], dtype=object)
    testing.check_reference(CreateOperator("Concat", ["A", "B"], ["Y", "S"], axis=0), [a, b],
                            lambda *v: [np.array([b"a", b"b", b"c"], dtype=object),
                                        np.array([2, 1], np.int32)])


def m(text):
    return re.escape(text)


def test_errors():
    op = CreateOperator("Concat", ["A", "B"], ["Y", "S"], axis=1)
    testing.check_raises(op, [np.ones((2, 2), np.float32), np.ones((3, 2), np.float32)],
                         ShapeError, m("dim == dim_j. 2 vs 3. Expect dimension = 2 got 3 at "
                                       "axis = 0 for input: 1. The input tensors can only have "
                                       "different dimensions when arg 'add_axis' = 0 and along "
                                       "the axis = 1 <[2, 2]> vs <[3, 2]>."))
    testing.check_raises(op, [np.ones((2, 2), np.float32), np.ones((2, 2), np.int32)],
                         DTypeError, m("All inputs must have the same type, expected: float but "
                                       "got: int for input: 1"))
    testing.check_raises(op, [np.ones((2, 2), np.float32), np.ones((2, 2, 1), np.float32)],
                         ShapeError, m("All inputs of Concat should have same dims except "
                                       "canonical_axis dim that is equal to 1Got different "
                                       "sizes for inputs 0 and 1"))
    stacked = CreateOperator("Concat", ["A", "B"], ["Y", "S"], axis=0, add_axis=1)
    testing.check_raises(stacked, [np.ones((2, 2), np.float32), np.ones((2, 3), np.float32)],
                         ShapeError, m("at axis = 1 for input: 1"))
    testing.check_raises(CreateOperator("Concat", ["A"], ["Y", "S"], axis=2),
                         [np.ones((2, 2), np.float32)], ShapeError,
                         m("axis_index < ndims. 2 vs 2"))
    testing.check_raises(CreateOperator("Concat", ["A"], ["Y", "S"], axis=1, order="NHWC"),
                         [np.ones((2, 2), np.float32)], EnforceError,
                         m("You shouldn't specify both the dim to concat, and the order in "
                           "the case of 4-D images."))
    testing.check_raises(CreateOperator("Concat", ["A"], ["Y", "S"], order="CHW"),
                         [np.ones((2, 2), np.float32)], EnforceError,
                         m("Unsupported storage order: CHW"))


@pytest.mark.parametrize("kw", [{"axis": 0}, {"axis": 1}, {"axis": -1, "add_axis": 1}])
def test_numeric_gradient(kw):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    testing.check_gradient(CreateOperator("Concat", ["A", "B"], ["Y", "S"], **kw), [a, b],
                           [0, 1], outputs=[0])


def test_gradient_ops_list():
    op = CreateOperator("Concat", ["A", "B", "C"], ["Y", "Y_info"], axis=0)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("Split", ["Y_grad", "Y_info"], ["A_grad", "B_grad", "C_grad"], axis=0)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert [str(grads[k]) for k in "ABC"] == ["A_grad", "B_grad", "C_grad"]


def test_gradient_needs_split_info():
    op = CreateOperator("Concat", ["A", "B"], ["Y"], axis=0)
    with pytest.raises(GradientError, match="split_info"):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})


# -- shape and cost inference ---------------------------------------------------------


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    f4, i4 = np.dtype(np.float32), np.dtype(np.int32)
    a, b = TensorShape((2, 3), f4), TensorShape((2, 5), f4)
    op = CreateOperator("Concat", ["A", "B"], ["Y", "info"], axis=1)
    assert infer_op(op, [a, b]) == [TensorShape((2, 8), f4), TensorShape((2,), i4)]
    stacked = CreateOperator("Concat", ["A", "B"], ["Y", "info"], axis=-1, add_axis=1)
    assert infer_op(stacked, [a, a]) == [
        TensorShape((2, 3, 2), f4),
        TensorShape((2,), i4),
    ]
    scalars = CreateOperator("Concat", ["A", "B", "C"], ["Y"], axis=0, add_axis=1)
    assert infer_op(scalars, [TensorShape((), f4)] * 3) == [TensorShape((3,), f4)]
    sym = infer_op(op, [TensorShape(("N", 3), f4), TensorShape(("N", "K"), f4)])
    assert sym[0] == TensorShape(("N", "3+K"), f4)
    assert infer_op(op, [TensorShape(None, f4), b])[0].dims is None
    with pytest.raises(ShapeError, match="at axis = 0 for input: 1"):
        infer_op(op, [a, TensorShape((3, 5), f4)])


def test_cost_is_caffe2s():
    from caffe2lite.inference import op_cost
    from caffe2lite.schema.shapes import Cost, TensorShape

    f8 = np.dtype(np.float64)
    op = CreateOperator("Concat", ["A", "B"], ["Y", "info"], axis=0)
    a, b = TensorShape((2, 3), f8), TensorShape((1, 3), f8)
    # four bytes an element whatever the type; one element more read, as Caffe2 had
    assert op_cost(op, [a, b]) == Cost(0, (1 + 9) * 4, 9 * 4, 0)


def test_shape_inference_honours_add_axis_with_order_as_caffe2s():
    # shape_inference_test.py testConcat / testConcatInt32: TensorInferenceForConcat
    # takes the axis from order when there is no axis argument and still reads
    # add_axis (the kernel does not), so NHWC + add_axis stacks on a new axis 3.
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    i4 = np.dtype(np.int32)
    a, b = TensorShape((10, 12, 9, 10), i4), TensorShape((10, 9, 9, 10), i4)
    d, f = TensorShape((10, 2, 9, 10), i4), TensorShape((10, 23, 9, 10), i4)
    c = infer_op(CreateOperator("Concat", ["A", "B"], ["C", "s"], axis=1), [a, b])
    assert c == [TensorShape((10, 21, 9, 10), i4), TensorShape((2,), i4)]
    e = infer_op(CreateOperator("Concat", ["C", "D"], ["E", "s"], order="NCHW"), [c[0], d])
    assert e[0] == TensorShape((10, 23, 9, 10), i4)
    g = infer_op(CreateOperator("Concat", ["E", "F"], ["G", "s"], add_axis=1, order="NHWC"),
                 [e[0], f])
    assert g == [TensorShape((10, 23, 9, 2, 10), i4), TensorShape((2,), i4)]
    # the kernel itself ignores add_axis without axis, as Caffe2's ConcatOp did
    x = np.arange(2 * 3 * 4 * 5, dtype=np.int32).reshape(2, 3, 4, 5)
    testing.check_reference(
        CreateOperator("Concat", ["X", "Y"], ["Z", "s"], add_axis=1, order="NHWC"),
        [x, x], lambda x, y: [np.concatenate([x, y], axis=3), np.array([5, 5], np.int32)])


def test_depth_concat_is_concat_under_its_old_name():
    from caffe2lite.core import GradientRegistry
    from caffe2lite.workspace import Workspace

    a, b = np.ones((1, 2, 2), np.float32), np.zeros((1, 3, 2), np.float32)
    ws = Workspace()
    ws.feed_blob("a", a)
    ws.feed_blob("b", b)
    ws.run_operator_once(CreateOperator("DepthConcat", ["a", "b"], ["y", "info"], order="NCHW"))
    np.testing.assert_array_equal(ws.fetch_blob("y"), np.concatenate([a, b], axis=1))
    assert ws.fetch_blob("info").tolist() == [2, 3]
    op = CreateOperator("DepthConcat", ["a", "b"], ["y", "info"])
    ops, _ = GradientRegistry.GetBackwardPass([op], {"y": "y_grad"})
    assert [o.type for o in ops] == ["Split"]
