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
    "And": lambda x, y: x and y,
    "Or": lambda x, y: x or y,
    "Xor": lambda x, y: x != y,
}


def naive(fn, a, b, broadcast=False, axis=-1):
    """Index by index, numpy-style from the right or Caffe2's legacy rule."""
    if broadcast:
        out_shape, start = a.shape, (a.ndim - b.ndim if axis == -1 else axis)
    else:
        n = max(a.ndim, b.ndim)
        pa, pb = (1,) * (n - a.ndim) + a.shape, (1,) * (n - b.ndim) + b.shape
        out_shape = tuple(p if q == 1 else q for p, q in zip(pa, pb))
    out = np.zeros(out_shape, dtype=bool)
    for idx in np.ndindex(*out_shape):
        if broadcast:
            x = a[idx]
            y = (
                b.reshape(-1)[0]
                if b.size == 1
                else b[
                    tuple(
                        0 if d == 1 else idx[start + i] for i, d in enumerate(b.shape)
                    )
                ]
            )
        else:
            x = a[
                tuple(
                    0 if d == 1 else idx[len(idx) - a.ndim + i]
                    for i, d in enumerate(a.shape)
                )
            ]
            y = b[
                tuple(
                    0 if d == 1 else idx[len(idx) - b.ndim + i]
                    for i, d in enumerate(b.shape)
                )
            ]
        out[idx] = fn(bool(x), bool(y))
    return out


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
        ((3, 3), (3, 3)),
        ((2, 3), (3,)),
        ((1,), (2, 2)),
        ((), (3,)),
        ((0, 3), (1,)),
        ((2, 1, 4), (3, 1)),
        ((), ()),
        ((1, 3, 1, 2), (2, 1, 4, 1)),
    ]
)


@settings(max_examples=30, deadline=None)
@given(
    op_type=st.sampled_from(sorted(OPS)), shapes=SHAPE_PAIRS, seed=st.integers(0, 2**16)
)
def test_numpy_broadcasting_matches_naive(op_type, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (
        np.asarray(rng.random(shapes[0]) > 0.5),
        np.asarray(rng.random(shapes[1]) > 0.5),
    )
    op = CreateOperator(op_type, ["A", "B"], ["C"])
    (c,) = check_reference(op, [a, b], lambda a, b: [naive(OPS[op_type], a, b)])
    (inferred,) = infer_op(op, [shape_of(a), shape_of(b)])
    assert inferred == TensorShape(c.shape, np.bool_)


@pytest.mark.parametrize("op_type", sorted(OPS))
@pytest.mark.parametrize(
    "b_shape, kwargs",
    [
        ((), {}),
        ((5,), {}),
        ((4, 5), {}),
        ((3, 4), {"axis": 1}),
        ((2,), {"axis": 0}),
    ],
)
def test_legacy_broadcasting_matches_naive(op_type, b_shape, kwargs):
    rng = np.random.default_rng(1)
    a, b = rng.random((2, 3, 4, 5)) > 0.5, np.asarray(rng.random(b_shape) > 0.5)
    op = CreateOperator(op_type, ["A", "B"], ["C"], broadcast=1, **kwargs)
    check_reference(
        op,
        [a, b],
        lambda a, b: [
            naive(OPS[op_type], a, b, broadcast=True, axis=kwargs.get("axis", -1))
        ],
    )
    (inferred,) = infer_op(op, [shape_of(a), shape_of(b)])
    assert inferred == TensorShape(a.shape, np.bool_)


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_truth_tables_and_in_place_on_a(op_type):
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    want = {
        "And": [True, False, False, False],
        "Or": [True, True, True, False],
        "Xor": [False, True, True, False],
    }[op_type]
    check_reference(
        CreateOperator(op_type, ["A", "B"], ["A"]),
        [a, b],
        lambda a, b: [np.array(want)],
    )
    check_raises(
        CreateOperator(op_type, ["A", "B"], ["B"]),
        [a, b],
        SchemaError,
        f"not supported by op {op_type}",
    )


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_example_and_shape_function(op_type):
    example_check(op_type)


def test_errors():
    op = CreateOperator("And", ["A", "B"], ["C"])
    t = np.array([True, False])
    check_raises(
        op,
        [np.array([1, 0], np.int32), np.array([1, 0], np.int32)],
        DTypeError,
        "Unsupported type of tensor: int",
    )
    check_raises(
        op,
        [t, np.array([1, 0], np.int32)],
        DTypeError,
        re.escape(
            "Tensor type mismatch, caller expects elements to be bool while tensor contains int"
        ),
    )
    check_raises(
        op,
        [t, np.array([True, False, True])],
        ShapeError,
        re.escape("A_dim: 2,B_dim: 3"),
    )
    check_raises(
        CreateOperator("Or", ["A", "B"], ["C"], broadcast=1),
        [t, t[None, :]],
        ShapeError,
        "smaller or equal number of dimensions",
    )


@pytest.mark.parametrize("op_type", sorted(OPS))
def test_gradient_should_not_be_asked_for(op_type):
    assert registry.gradient_entry(op_type).kind == registry.SHOULD_NOT_DO
    with pytest.raises(
        GradientError, match=f"One should not call gradient for operator {op_type}"
    ):
        GradientRegistry.GetBackwardPass(
            [CreateOperator(op_type, ["A", "B"], ["C"])], {"C": "C_grad"}
        )
