"""Add and AddGradient, and the broadcasting rules (numpy style and legacy) that Sub
and Mul share with Add."""

from __future__ import annotations

import operator
import re

import numpy as np
import pytest
from c2l_test_support.broadcast import naive_binary, naive_binary_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, EnforceError, SchemaError, ShapeError
from caffe2lite.workspace import Workspace


def naive_add(a, b):
    """One output element at a time, mapping each output index back to A and B."""
    return naive_binary(operator.add, a, b)


def legacy_b_index(a_shape, b, axis):
    """A function from an index of A to the B element it meets (legacy broadcast)."""
    if b.size == 1:
        return lambda idx: b.reshape(-1)[0]
    dims_ = list(b.shape)
    lead = 0
    while dims_ and dims_[0] == 1:
        dims_.pop(0)
        lead += 1
    while dims_ and dims_[-1] == 1:
        dims_.pop()
    core = b.reshape(dims_)
    start = (len(a_shape) - b.ndim if axis == -1 else axis) + lead
    return lambda idx: core[idx[start:start + len(dims_)]]


def naive_legacy_add(a, b, axis=-1):
    pick = legacy_b_index(a.shape, b, axis)
    out = np.empty(a.shape, dtype=a.dtype)
    for idx in np.ndindex(*a.shape):
        out[idx] = a[idx] + pick(idx)
    return [out]


def naive_add_gradient(dc, a, b):
    return naive_binary_gradient(lambda g, x, y: (g, g), dc, a, b)


shapes = st.lists(st.integers(0, 3), max_size=4)


@st.composite
def broadcastable(draw):
    c = draw(st.lists(st.integers(0, 3), min_size=0, max_size=4))
    a = [d if draw(st.booleans()) else 1 for d in c][draw(st.integers(0, len(c))):]
    b = [d if draw(st.booleans()) else 1 for d in c][draw(st.integers(0, len(c))):]
    return tuple(a), tuple(b)


@settings(max_examples=30, deadline=None)
@given(ab=broadcastable(), dtype=st.sampled_from([np.int32, np.int64, np.float32, np.float64]),
       swap=st.booleans(), seed=st.integers(0, 2**16))
def test_numpy_broadcast_matches_naive_loop(ab, dtype, swap, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = ab[::-1] if swap else ab
    a = np.asarray(rng.integers(-50, 50, a_shape), dtype=dtype)
    b = np.asarray(rng.integers(-50, 50, b_shape), dtype=dtype)
    testing.check_reference(CreateOperator("Add", ["A", "B"], ["C"]), [a, b], naive_add,
                            atol=0, rtol=0)
    dc = np.asarray(rng.integers(-9, 9, naive_add(a, b)[0].shape), dtype=dtype)
    testing.check_reference(CreateOperator("AddGradient", ["dC", "A", "B"], ["dA", "dB"]),
                            [dc, a, b], naive_add_gradient, atol=0, rtol=0)


LEGACY = [  # (A shape, B shape, axis) from Caffe2's list of supported legacy shapes
    ((2, 3, 4, 5), (), -1), ((2, 3, 4, 5), (1,), -1), ((2, 3, 4, 5), (5,), -1),
    ((2, 3, 4, 5), (4, 5), -1), ((2, 3, 4, 5), (3, 4), 1), ((2, 3, 4, 5), (2,), 0),
    ((2, 3, 4, 5), (1, 3, 1), 0), ((2, 3, 4, 5), (3, 1, 1), 1), ((2, 3), (1, 1, 1), -1),
    ((2, 3, 4), (1, 4), -1), ((0, 3), (3,), -1), ((2, 3), (2, 3), -1),
]


@pytest.mark.parametrize("a_shape,b_shape,axis", LEGACY)
def test_legacy_broadcast_matches_naive_loop(a_shape, b_shape, axis):
    rng = np.random.default_rng(len(a_shape) * 10 + len(b_shape))
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = np.asarray(rng.standard_normal(b_shape), dtype=np.float32)
    op = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis=axis)
    testing.check_reference(op, [a, b], lambda *v: naive_legacy_add(*v, axis), atol=0)
    dc = rng.standard_normal(a_shape).astype(np.float32)
    db = np.zeros(b.size, np.float64)
    pick_index = legacy_b_index(a_shape, np.arange(b.size).reshape(b.shape), axis)
    for idx in np.ndindex(*a_shape):
        db[int(pick_index(idx))] += dc[idx]
    grad = CreateOperator("AddGradient", ["dC", "A", "B"], ["dA", "dB"], broadcast=1, axis=axis)
    testing.check_reference(grad, [dc, a, b],
                            lambda *v: [dc, db.astype(np.float32).reshape(b.shape)], atol=1e-5)


def test_axis_str_names_the_axis_in_order():
    a = np.zeros((2, 3, 4, 5), np.float32)
    b = np.arange(3, dtype=np.float32)
    op = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis_str="C")
    testing.check_reference(op, [a, b], lambda *v: naive_legacy_add(a, b, 1))
    b4 = np.arange(5, dtype=np.float32)
    op = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis_str="C", order="NHWC")
    testing.check_reference(op, [a, b4], lambda *v: naive_legacy_add(a, b4, 3))


def test_axis_without_broadcast_is_ignored():
    a, b = np.ones((2, 3), np.float32), np.ones(3, np.float32)
    testing.check_reference(CreateOperator("Add", ["A", "B"], ["C"], axis=0), [a, b],
                            lambda *v: [np.full((2, 3), 2, np.float32)])


def test_int32_wraps_like_cpp():
    a = np.array([2**31 - 1], np.int32)
    testing.check_reference(CreateOperator("Add", ["A", "B"], ["C"]), [a, np.ones(1, np.int32)],
                            lambda *v: [np.array([-2**31], np.int32)])


def test_in_place_on_either_input():
    ws = Workspace()
    ws.feed_blob("A", np.array([1, 2], np.float32))
    ws.feed_blob("B", np.array([10, 20], np.float32))
    ws.run_operator_once(CreateOperator("Add", ["A", "B"], ["A"]))
    ws.run_operator_once(CreateOperator("Add", ["A", "B"], ["B"]))
    np.testing.assert_array_equal(ws.fetch_blob("B"), [21, 42])
    ws.feed_blob("dC", np.array([1, 2], np.float32))
    ws.run_operator_once(CreateOperator("AddGradient", ["dC", "A", "B"], ["dC", "dB"]))
    np.testing.assert_array_equal(ws.fetch_blob("dC"), [1, 2])
    testing.check_raises(CreateOperator("AddGradient", ["dC", "A", "B"], ["A", "dB"]),
                         [np.ones(2, np.float32)] * 3, SchemaError, "in-place")


def m(text):
    return re.escape(text)


def test_broadcast_errors():
    op = CreateOperator("Add", ["A", "B"], ["C"])
    testing.check_raises(op, [np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)],
                         ShapeError, m("A_dim == B_dim || A_dim == 1 || B_dim == 1. A_dim: 3,"
                                       "B_dim: 4"))
    legacy = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1)
    testing.check_raises(legacy, [np.ones(3, np.float32), np.ones((2, 3), np.float32)],
                         ShapeError, m("A.dim() >= B.dim(). 1 vs 2. If you are doing "
                                       "broadcasting, input1 should have a smaller or equal "
                                       "number of dimensions."))
    testing.check_raises(legacy, [np.ones((2, 3), np.float32), np.ones(2, np.float32)],
                         ShapeError, m("A.size(i + axis) == B.size(i). 3 vs 2. Broadcast "
                                       "dimension mismatch."))
    legacy2 = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis=2)
    testing.check_raises(legacy2, [np.ones((2, 3), np.float32), np.ones(2, np.float32)],
                         ShapeError, m("Broadcast axis should be in the range of[0, A.ndim() - "
                                       "B.ndim()], but axis = 2"))


def test_legacy_argument_errors():
    a, b = np.ones((2, 3), np.float32), np.ones(3, np.float32)
    both = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis=1, axis_str="C")
    testing.check_raises(both, [a, b], EnforceError,
                         m("axis_str_.size() == 0. 1 vs 0. Args axis and axis_str cannot be "
                           "used simultaneously."))
    long_str = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis_str="HW")
    testing.check_raises(long_str, [a, b], EnforceError,
                         m("axis_str_.size() == 1. 2 vs 1. Unsupported axis stringHW"))
    unknown = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis_str="X")
    testing.check_raises(unknown, [a, b], EnforceError,
                         m("Unrecognizable axis string X from order string NCHW"))


def test_type_errors():
    op = CreateOperator("Add", ["A", "B"], ["C"])
    testing.check_raises(op, [np.ones(2, bool), np.ones(2, bool)], DTypeError,
                         "Unsupported type of tensor: bool")
    testing.check_raises(op, [np.ones(2, np.float32), np.ones(2, np.float64)], DTypeError,
                         "caller expects elements to be float while tensor contains double")
    grad = CreateOperator("AddGradient", ["dC", "A", "B"], ["dA", "dB"])
    testing.check_raises(grad, [np.ones(2, np.int32), np.ones(2, np.float32),
                                np.ones(2, np.float32)], DTypeError, "blob 'dC'")
    testing.check_raises(grad, [np.ones(3, np.float32), np.ones(2, np.float32),
                                np.ones(2, np.float32)], ShapeError, m("dC.sizes() == C.sizes()"))


@pytest.mark.parametrize("a_shape,b_shape,kw", [
    ((2, 3), (2, 3), {}), ((2, 3), (3,), {}), ((2, 1, 3), (4, 1), {}), ((3,), (2, 3), {}),
    ((2, 3, 4), (3,), {"broadcast": 1, "axis": 1}), ((2, 3), (1,), {"broadcast": 1}),
])
def test_numeric_gradient(a_shape, b_shape, kw):
    rng = np.random.default_rng(11)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    testing.check_gradient(CreateOperator("Add", ["A", "B"], ["C"], **kw), [a, b], [0, 1])


def test_gradient_ops_list():
    op = CreateOperator("Add", ["A", "B"], ["C"], broadcast=1, axis=1)
    ops, grads = GradientRegistry.GetBackwardPass([op], {"C": "C_grad"})
    want = CreateOperator("AddGradient", ["C_grad", "A", "B"], ["A_grad", "B_grad"],
                          broadcast=1, axis=1)
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert (str(grads["A"]), str(grads["B"])) == ("A_grad", "B_grad")


# -- shape and cost inference --------------------------------------------------------

from caffe2lite.inference import infer_op, op_cost  # noqa: E402
from caffe2lite.schema.shapes import Cost, TensorShape  # noqa: E402

F4 = np.dtype(np.float32)


def _infer(op_type, shapes, **kw):
    op = CreateOperator(
        op_type,
        [f"i{k}" for k in range(len(shapes))],
        ["o0"] if not op_type.endswith("Gradient") else ["o0", "o1"],
        **kw,
    )
    return infer_op(op, shapes)


def test_shape_numpy_broadcast_symbols_and_legacy():
    a, b = TensorShape((2, 1, 3), F4), TensorShape((4, 1), F4)
    assert _infer("Add", [a, b]) == [TensorShape((2, 4, 3), F4)]
    assert _infer("Add", [TensorShape(("N", 3), F4), TensorShape((3,), F4)]) == [
        TensorShape(("N", 3), F4)
    ]
    assert _infer("Add", [TensorShape((0, 3), F4), TensorShape((1, 3), F4)]) == [
        TensorShape((0, 3), F4)
    ]
    legacy = _infer(
        "Add", [TensorShape((2, 3, 4), F4), TensorShape((3,), F4)], broadcast=1, axis=1
    )
    assert legacy == [TensorShape((2, 3, 4), F4)]
    assert _infer("Add", [TensorShape(None, F4), TensorShape((3,), F4)])[0].dims is None
    with pytest.raises(ShapeError, match="do not broadcast"):
        _infer("Add", [TensorShape((2, 3), F4), TensorShape((4,), F4)])


def test_gradient_shape_is_the_inputs_shapes():
    dc, a, b = TensorShape((2, 3), F4), TensorShape((2, 3), F4), TensorShape((3,), F4)
    assert _infer("AddGradient", [dc, a, b]) == [a, b]


def test_cost_is_caffe2s_pointwise_cost_of_the_first_input():
    op = CreateOperator("Add", ["A", "B"], ["C"])
    a, b = TensorShape((2, 3), F4), TensorShape((3,), F4)
    assert op_cost(op, [a, b]) == Cost(6, 36, 24, 0)
    # Caffe2 counted the first input's elements even when B was the larger.
    assert op_cost(op, [b, a]) == Cost(3, 36, 12, 0)


@pytest.mark.parametrize("op_type,fn", [("Add", operator.add), ("Sub", operator.sub),
                                        ("Mul", operator.mul)])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
def test_same_shapes_skip_the_shape_work(op_type, fn, dtype):
    """A and B of one shape (the common case, which skips the broadcasting work):
    contiguous, transposed and 0-d operands give the naive loop's values, and the
    gradient ops give dC (times the other operand for Mul) unreduced, 0-d included."""
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    b = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    op = CreateOperator(op_type, ["A", "B"], ["C"])
    for x, y in ((a, b), (a.T, b.T), (a[:, ::2], b[:, 1::2]), (a[0, 0][()], b[0, 0][()])):
        x, y = np.asarray(x), np.asarray(y)
        testing.check_reference(op, [x, y], lambda p, q: naive_binary(fn, p, q), atol=0)
    if dtype in (np.float32, np.float64):
        grad = CreateOperator(op_type + "Gradient", ["dC", "A", "B"], ["dA", "dB"])
        for x, y in ((a, b), (np.asarray(a[0, 0]), np.asarray(b[0, 0]))):
            dc = rng.standard_normal(x.shape).astype(dtype)
            if op_type == "Mul":
                want = [dc * y, dc * x]
            else:
                want = [dc, -dc if op_type == "Sub" else dc]
            ws = Workspace()
            for name, value in zip(["dC", "A", "B"], [dc, x, y]):
                ws.feed_blob(name, value)
            ws.run_operator_once(grad)
            for name, w in zip(["dA", "dB"], want):
                got = ws.fetch_blob(name)
                assert isinstance(got, np.ndarray) and got.shape == x.shape
                assert got.dtype == dtype
                np.testing.assert_array_equal(got, w)
