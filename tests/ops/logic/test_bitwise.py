from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, SchemaError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises, check_reference

OPS = {
    "BitwiseAnd": lambda x, y: x & y,
    "BitwiseOr": lambda x, y: x | y,
    "BitwiseXor": lambda x, y: x ^ y,
}
DTYPES = [np.int32, np.int64, np.bool_]


def naive(fn, a, b):
    """Index by index with numpy-style alignment from the right, on Python ints."""
    n = max(a.ndim, b.ndim)
    pa, pb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
    out_shape = tuple(p if q == 1 else q for p, q in zip(pa, pb))
    out = np.zeros(out_shape, dtype=a.dtype)
    for idx in np.ndindex(*out_shape):
        x = a[
            tuple(0 if d == 1 else idx[n - a.ndim + i] for i, d in enumerate(a.shape))
        ]
        y = b[
            tuple(0 if d == 1 else idx[n - b.ndim + i] for i, d in enumerate(b.shape))
        ]
        out[idx] = fn(x.item(), y.item())
    return out


def example_check(op_type):
    ex = registry.lookup(op_type).example
    op = CreateOperator(op_type, list(ex.inputs), list(ex.outputs), **ex.args)
    check_reference(op, list(ex.inputs.values()), lambda *_: list(ex.outputs.values()))
    shapes = infer_op(op, [shape_of(v) for v in ex.inputs.values()])
    assert [(s.dims, s.dtype) for s in shapes] == [
        (v.shape, v.dtype) for v in ex.outputs.values()
    ]


@settings(max_examples=30, deadline=None)
@given(
    op_type=st.sampled_from(sorted(OPS)),
    dtype=st.sampled_from(DTYPES),
    n=st.integers(1, 3),
    m=st.integers(1, 3),
    k=st.integers(1, 3),
    t=st.integers(1, 3),
    case=st.integers(0, 6),
    seed=st.integers(0, 2**16),
)
def test_caffe2_shape_cases_both_orders(op_type, dtype, n, m, k, t, case, seed):
    """Caffe2's _test_bitwise_binary_op shape pairs, each also with inputs swapped."""
    a_shape, b_shape = [
        ((n, m, k, t), (n, m, k, t)),
        ((1,), (n, m, k, t)),
        ((k, t), (n, m, k, t)),
        ((n, m, 1, 1), (n, m, k, t)),
        ((1, m, k, 1), (n, m, k, t)),
        ((m, 1, t), (n, m, k, t)),
        ((1, m, 1, t), (n, 1, k, 1)),
    ][case]
    rng = np.random.default_rng(seed)
    lo = 0 if dtype is np.bool_ else np.iinfo(dtype).min
    hi = 2 if dtype is np.bool_ else np.iinfo(dtype).max
    a = rng.integers(lo, hi, size=a_shape, endpoint=dtype is not np.bool_).astype(dtype)
    b = rng.integers(lo, hi, size=b_shape, endpoint=dtype is not np.bool_).astype(dtype)
    op = CreateOperator(op_type, ["A", "B"], ["C"])
    for x, y in ((a, b), (b, a)):
        (c,) = check_reference(op, [x, y], lambda x, y: [naive(OPS[op_type], x, y)])
        (inferred,) = infer_op(op, [shape_of(x), shape_of(y)])
        assert inferred == TensorShape(c.shape, dtype)


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_legacy_broadcast_empty_and_scalar(op_type):
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    b = np.array([5, 6, 7], np.int64)
    fn = getattr(
        np,
        {
            "BitwiseAnd": "bitwise_and",
            "BitwiseOr": "bitwise_or",
            "BitwiseXor": "bitwise_xor",
        }[op_type],
    )
    check_reference(
        CreateOperator(op_type, ["A", "B"], ["C"], broadcast=1, axis=1),
        [a, b],
        lambda a, b: [fn(a, b[:, None])],
    )
    empty = np.zeros((0, 4), np.int32)
    check_reference(
        CreateOperator(op_type, ["A", "B"], ["A"]),
        [empty, np.array([1, 2, 3, 4], np.int32)],
        lambda a, b: [empty],
    )
    zero_d = np.array(6, np.int32)
    check_reference(
        CreateOperator(op_type, ["A", "B"], ["C"]),
        [zero_d, np.array(3, np.int32)],
        lambda a, b: [np.array(OPS[op_type](6, 3), np.int32)],
    )


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_example_and_shape_function(op_type):
    example_check(op_type)


def test_errors():
    op = CreateOperator("BitwiseOr", ["A", "B"], ["C"])
    check_raises(
        op,
        [np.zeros(2, np.float32), np.zeros(2, np.float32)],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    check_raises(
        op,
        [np.zeros(2, np.int64), np.zeros(2, np.int32)],
        DTypeError,
        re.escape("caller expects elements to be long while tensor contains int"),
    )
    check_raises(
        op,
        [np.zeros((2, 2), np.int32), np.zeros(3, np.int32)],
        ShapeError,
        "A_dim: 2,B_dim: 3",
    )
    check_raises(
        CreateOperator("BitwiseOr", ["A", "B"], ["B"]),
        [np.zeros(2, np.int32)] * 2,
        SchemaError,
        "not supported by op BitwiseOr",
    )


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_gradient_should_not_be_asked_for(op_type):
    assert registry.gradient_entry(op_type).kind == registry.SHOULD_NOT_DO
    with pytest.raises(GradientError, match="One should not call gradient"):
        GradientRegistry.GetBackwardPass(
            [CreateOperator(op_type, ["A", "B"], ["C"])], {"C": "C_grad"}
        )
