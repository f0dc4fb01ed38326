from __future__ import annotations

import operator
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite import core, workspace
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, SchemaError, ShapeError
from caffe2lite.inference import infer_net, infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises, check_reference

OPS = {
    "EQ": operator.eq,
    "NE": operator.ne,
    "LT": operator.lt,
    "LE": operator.le,
    "GT": operator.gt,
    "GE": operator.ge,
}
DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]


def naive(fn, a, b, broadcast=False, axis=-1):
    """Index by index: numpy-style alignment from the right, or Caffe2's legacy rule
    (B's dimensions sit at ``axis`` of A; a dimension of 1 of B repeats)."""
    if broadcast:
        out_shape = a.shape
        start = a.ndim - b.ndim if axis == -1 else axis
    else:
        n = max(a.ndim, b.ndim)
        pa, pb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
        out_shape = tuple(p if q == 1 else q for p, q in zip(pa, pb))
    out = np.zeros(out_shape, dtype=bool)
    for idx in np.ndindex(*out_shape):
        if broadcast:
            ia = idx
            ib = (
                (0,)
                if b.size == 1
                else tuple(
                    0 if d == 1 else idx[start + i] for i, d in enumerate(b.shape)
                )
            )
            x, y = a[ia], b.reshape(-1)[0] if b.size == 1 else b[ib]
        else:
            ia = tuple(
                0 if d == 1 else idx[len(idx) - a.ndim + i]
                for i, d in enumerate(a.shape)
            )
            ib = tuple(
                0 if d == 1 else idx[len(idx) - b.ndim + i]
                for i, d in enumerate(b.shape)
            )
            x, y = a[ia], b[ib]
        out[idx] = fn(x.item(), y.item())
    return out


def values(rng, shape, dtype):
    """Small values with many ties (and a NaN now and then for floats)."""
    x = rng.integers(-2, 3, size=shape).astype(dtype)
    if np.dtype(dtype).kind == "f" and x.size:
        x.reshape(-1)[rng.integers(0, x.size)] = np.nan
    return x


def example_check(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    check_reference(op, list(ex.inputs.values()), lambda *_: list(ex.outputs.values()))
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    assert [(s.dims, s.dtype) for s in shapes] == [
        (v.shape, v.dtype) for v in ex.outputs.values()
    ]


SHAPE_PAIRS = st.sampled_from(
    [
        ((2, 3), (2, 3)),
        ((2, 3), (3,)),
        ((3,), (2, 3)),
        ((2, 1, 4), (3, 1)),
        ((1,), (2, 2)),
        ((), (3,)),
        ((0, 3), (3,)),
        ((2, 0), (1, 1)),
        ((), ()),
        ((1, 3, 1, 2), (2, 1, 4, 1)),
    ]
)


@settings(max_examples=40, deadline=None)
@given(
    op_type=st.sampled_from(sorted(OPS)),
    shapes=SHAPE_PAIRS,
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_numpy_broadcasting_matches_naive(op_type, shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    a, b = values(rng, shapes[0], dtype), values(rng, shapes[1], dtype)
    op = CreateOperator(op_type, ["A", "B"], ["C"])
    (c,) = check_reference(op, [a, b], lambda a, b: [naive(OPS[op_type], a, b)])
    assert c.dtype == np.bool_
    (inferred,) = infer_op(op, [shape_of(a), shape_of(b)])
    assert inferred == TensorShape(c.shape, np.bool_)


@pytest.mark.parametrize("op_type", sorted(OPS))
@pytest.mark.parametrize(
    "a_shape, b_shape, kwargs",
    [
        ((2, 3, 4, 5), (), {}),
        ((2, 3, 4, 5), (1,), {}),
        ((2, 3, 4, 5), (5,), {}),
        ((2, 3, 4, 5), (4, 5), {}),
        ((2, 3, 4, 5), (3, 4), {"axis": 1}),
        ((2, 3, 4, 5), (2,), {"axis": 0}),
        ((2, 3, 4, 5), (1, 4, 1), {"axis": 1}),
        ((2, 3, 4, 5), (3,), {"axis_str": "C", "order": "NCHW"}),
        ((2, 3, 4, 5), (5,), {"axis_str": "C", "order": "NHWC"}),
        ((0, 3), (3,), {}),
    ],
)
def test_legacy_broadcasting_matches_naive(op_type, a_shape, b_shape, kwargs):
    rng = np.random.default_rng(3)
    a, b = values(rng, a_shape, np.float32), values(rng, b_shape, np.float32)
    axis = kwargs.get("axis", -1)
    if "axis_str" in kwargs:
        axis = kwargs["order"].index(kwargs["axis_str"])
    op = CreateOperator(op_type, ["A", "B"], ["C"], broadcast=1, **kwargs)
    check_reference(
        op, [a, b], lambda a, b: [naive(OPS[op_type], a, b, broadcast=True, axis=axis)]
    )
    (inferred,) = infer_op(op, [shape_of(a), shape_of(b)])
    assert inferred == TensorShape(a_shape, np.bool_)


@pytest.mark.parametrize("n", [0, 1, 6])
def test_caffe2_eq_cases_and_inferred_shapes(n):
    """Caffe2's test_eq / test_eq_bcast: int64 inputs, broadcast=1, then shape
    inference of a net agrees with the run."""
    rng = np.random.default_rng(n)
    x = rng.integers(2, size=(n, 4))
    for y in (rng.integers(2, size=(n, 4)), rng.integers(2, size=(4,))):
        op = CreateOperator("EQ", ["X", "Y"], "out", broadcast=1)
        check_reference(op, [x, y], lambda x, y: [x == y])
        net = core.Net("eq_shapes")
        result = net.EQ(["X", "Y"], 1, broadcast=1)
        shapes = infer_net(net.Proto(), {"X": shape_of(x), "Y": shape_of(y)})
        ws = workspace.Workspace()
        ws.feed_blob("X", x)
        ws.feed_blob("Y", y)
        ws.run_net_once(net.Proto())
        got = ws.fetch_blob(str(result))
        assert (
            shapes[str(result)]
            == TensorShape(got.shape, np.bool_)
            == TensorShape(x.shape, np.bool_)
        )


def test_values_of_every_type_and_nan():
    a = np.array([1.0, np.nan, 2.0, np.nan], np.float64)
    b = np.array([1.0, 1.0, np.nan, np.nan], np.float64)
    for op_type, fn in OPS.items():
        op = CreateOperator(op_type, ["A", "B"], ["C"])
        check_reference(op, [a, b], lambda a, b, fn=fn: [naive(fn, a, b)])
    t, f = np.array([True, True, False, False]), np.array([True, False, True, False])
    check_reference(
        CreateOperator("LT", ["A", "B"], ["C"]),
        [t, f],
        lambda a, b: [np.array([False, False, True, False])],
    )
    big = np.array([2**62, -(2**62)], np.int64)
    check_reference(
        CreateOperator("GT", ["A", "B"], ["C"]),
        [big, big - 1],
        lambda a, b: [np.array([True, True])],
    )


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_example_and_shape_function(op_type):
    example_check(op_type)


def test_shape_function_with_unknown_inputs():
    fn = registry.lookup("LT").shape
    assert fn(
        TensorShape(None, np.float32), TensorShape((3,), np.float32), broadcast=False
    ) == (TensorShape(None, np.bool_),)
    assert fn(
        TensorShape((2, "N"), None), TensorShape((3,), None), broadcast=False
    ) == (TensorShape((2, 3), np.bool_),)
    assert fn(TensorShape((2, 5), None), TensorShape(None, None), broadcast=True) == (
        TensorShape((2, 5), np.bool_),
    )
    with pytest.raises(ShapeError):
        fn(TensorShape((2, 3)), TensorShape((4,)), broadcast=False)


def test_errors():
    op = CreateOperator("EQ", ["A", "B"], ["C"])
    i32, i64 = np.zeros(3, np.int32), np.zeros(3, np.int64)
    check_raises(
        op,
        [i32, i64],
        DTypeError,
        re.escape(
            "Tensor type mismatch, caller expects elements to be int while tensor contains long"
        ),
    )
    check_raises(
        op,
        [np.zeros(3, np.int16), np.zeros(3, np.int16)],
        DTypeError,
        "Unsupported type of tensor: short",
    )
    check_raises(
        op,
        [np.array([b"a"], object), np.array([b"a"], object)],
        DTypeError,
        "Unsupported type of tensor: std::string",
    )
    check_raises(
        op,
        [np.zeros((2, 3)), np.zeros((4,))],
        ShapeError,
        re.escape("A_dim == B_dim || A_dim == 1 || B_dim == 1. A_dim: 3,B_dim: 4"),
    )
    legacy = CreateOperator("GE", ["A", "B"], ["C"], broadcast=1)
    check_raises(
        legacy,
        [np.zeros((2, 3)), np.zeros((2,))],
        ShapeError,
        "Broadcast dimension mismatch",
    )
    check_raises(
        legacy,
        [np.zeros((3,)), np.zeros((2, 3))],
        ShapeError,
        "input1 should have a smaller or equal number of dimensions",
    )
    check_raises(
        CreateOperator("GE", ["A", "B"], ["C"], broadcast=1, axis=2),
        [np.zeros((2, 3)), np.zeros((3,))],
        ShapeError,
        re.escape("Broadcast axis should be in the range of[0, A.ndim() - B.ndim()]"),
    )
    check_raises(
        CreateOperator("GE", ["A", "B"], ["C"], broadcast=1, axis=0, axis_str="C"),
        [np.zeros((2, 3)), np.zeros((3,))],
        Exception,
        "Args axis and axis_str cannot be used simultaneously",
    )
    for out in ("A", "B"):
        check_raises(
            CreateOperator("LT", ["A", "B"], [out]),
            [i32, i32],
            SchemaError,
            "not supported by op LT",
        )


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_gradient_should_not_be_asked_for(op_type):
    assert registry.gradient_entry(op_type).kind == registry.SHOULD_NOT_DO
    op = CreateOperator(op_type, ["A", "B"], ["C"])
    with pytest.raises(
        GradientError, match=f"One should not call gradient for operator {op_type}"
    ):
        GradientRegistry.GetBackwardPass([op], {"C": "C_grad"})
