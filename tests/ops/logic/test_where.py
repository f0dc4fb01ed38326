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
from caffe2lite.schema.shapes import shape_of
from caffe2lite.testing import check_raises, check_reference


def mux(c, x, y):
    """Element by element (Caffe2's test reference, as a loop)."""
    out = np.empty(x.shape, dtype=x.dtype)
    for idx in np.ndindex(*x.shape):
        out[idx] = x[idx] if c[idx] else y[idx]
    return [out]


def rowmux(c, x, y):
    """Row i from X when C[i], else from Y."""
    out = np.empty(x.shape, dtype=x.dtype)
    for i in range(x.shape[0]):
        out[i] = x[i] if c[i] else y[i]
    return [out]


DTYPES = [np.float32, np.float64, np.int32, np.int64, np.bool_, object]


def data(rng, shape, dtype):
    x = rng.integers(0, 100, size=shape)
    if dtype is object:
        out = np.empty(shape, dtype=object)
        for idx in np.ndindex(*shape):
            out[idx] = str(x[idx]).encode()
        return out
    return x.astype(dtype)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), max_size=3),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_elementwise_matches_naive(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    c = np.asarray(rng.random(shape) > 0.5)
    x, y = data(rng, shape, dtype), data(rng, shape, dtype)
    op = CreateOperator("Where", ["C", "X", "Y"], ["Z"])
    (z,) = check_reference(op, [c, x, y], mux)
    assert infer_op(op, [shape_of(c), shape_of(x), shape_of(y)]) == [shape_of(z)]


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(0, 5),
    inner=st.lists(st.integers(0, 3), max_size=2),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_broadcast_on_rows_matches_naive(n, inner, dtype, seed):
    rng = np.random.default_rng(seed)
    c = rng.random(n) > 0.5
    x, y = data(rng, [n] + inner, dtype), data(rng, [n] + inner, dtype)
    op = CreateOperator("Where", ["C", "X", "Y"], ["Z"], broadcast_on_rows=True)
    (z,) = check_reference(op, [c, x, y], rowmux)
    assert infer_op(op, [shape_of(c), shape_of(x), shape_of(y)]) == [shape_of(z)]


def test_caffe2_reference_cases():
    op = CreateOperator("Where", ["C", "X", "Y"], ["Z"])
    check_reference(
        op,
        [np.array([True, False]), np.array([1, 2]), np.array([3, 4])],
        lambda *a: [np.array([1, 4])],
    )
    check_reference(
        op,
        [np.array([[True], [False]]), np.array([[1], [2]]), np.array([[3], [4]])],
        lambda *a: [np.array([[1], [4]])],
    )
    rows = CreateOperator("Where", ["C", "X", "Y"], ["Z"], broadcast_on_rows=1)
    check_reference(
        rows,
        [np.array([True]), np.array([[1, 2]]), np.array([[3, 4]])],
        lambda *a: [np.array([[1, 2]])],
    )
    check_reference(
        rows,
        [
            np.array([True, False]),
            np.array([[1, 2], [3, 4]]),
            np.array([[5, 6], [7, 8]]),
        ],
        lambda *a: [np.array([[1, 2], [7, 8]])],
    )
    zero_d = [np.array(False), np.array(1.5, np.float32), np.array(2.5, np.float32)]
    check_reference(op, zero_d, lambda *a: [np.array(2.5, np.float32)])


def test_example_and_shape_function():
    ex = registry.lookup("Where").example
    op = CreateOperator("Where", list(ex.inputs), list(ex.outputs))
    check_reference(op, list(ex.inputs.values()), lambda *_: [ex.outputs["Z"]])
    shapes = [shape_of(v) for v in ex.inputs.values()]
    assert infer_op(op, shapes) == [shape_of(ex.outputs["Z"])]


def test_errors():
    op = CreateOperator("Where", ["C", "X", "Y"], ["Z"])
    t = np.array([True, False])
    f32 = np.zeros(2, np.float32)
    check_raises(
        op,
        [t, np.zeros(2, np.int16), np.zeros(2, np.int16)],
        DTypeError,
        "Unsupported type of tensor: short",
    )
    check_raises(
        op,
        [np.array([1, 0], np.int32), f32, f32],
        DTypeError,
        re.escape("caller expects elements to be bool while tensor contains int"),
    )
    check_raises(
        op,
        [t, f32, np.zeros(2, np.float64)],
        DTypeError,
        re.escape("caller expects elements to be float while tensor contains double"),
    )
    check_raises(
        op,
        [t, np.zeros(3, np.float32), f32],
        ShapeError,
        re.escape("select.sizes() == left.sizes(). [2] vs [3]"),
    )
    check_raises(
        op,
        [t, f32, np.zeros((2, 1), np.float32)],
        ShapeError,
        re.escape("select.sizes() == right.sizes(). [2] vs [2, 1]"),
    )
    rows = CreateOperator("Where", ["C", "X", "Y"], ["Z"], broadcast_on_rows=1)
    check_raises(
        rows,
        [np.zeros((2, 1), bool), f32, f32],
        ShapeError,
        re.escape("select.dim() == 1. 2 vs 1"),
    )
    check_raises(
        rows,
        [t, np.zeros((3, 2), np.float32), np.zeros((3, 2), np.float32)],
        ShapeError,
        re.escape("select.size(0) == right.size(0). 2 vs 3"),
    )
    check_raises(
        rows,
        [t, np.zeros((2, 2), np.float32), np.zeros((2, 3), np.float32)],
        ShapeError,
        re.escape("left.sizes() == right.sizes(). [2, 2] vs [2, 3]"),
    )
    check_raises(
        rows,
        [np.array([True]), np.array(1.0, np.float32), np.array(1.0, np.float32)],
        ShapeError,
        "at least 1 dimension",
    )
    for i, name in ((0, "C"), (1, "X"), (2, "Y")):
        outs = [["C", "X", "Y"][i]]
        check_raises(
            CreateOperator("Where", ["C", "X", "Y"], outs),
            [t, f32, f32],
            SchemaError,
            f"Input index {i} and output idx 0 \\({name}\\)",
        )


def test_gradient_should_not_be_asked_for():
    assert registry.gradient_entry("Where").kind == registry.SHOULD_NOT_DO
    with pytest.raises(
        GradientError, match="One should not call gradient for operator Where"
    ):
        GradientRegistry.GetBackwardPass(
            [CreateOperator("Where", ["C", "X", "Y"], ["Z"])], {"Z": "Z_grad"}
        )
