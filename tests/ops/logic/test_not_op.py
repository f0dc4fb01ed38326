from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import DTypeError, GradientError, SchemaError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises, check_reference


def naive_not(x):
    out = np.empty(x.shape, dtype=bool)
    for idx in np.ndindex(*x.shape):
        out[idx] = x[idx] == False
    return out


@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(0, 4), max_size=4), seed=st.integers(0, 2**16))
def test_matches_naive(shape, seed):
    x = np.asarray(np.random.default_rng(seed).random(shape) > 0.5)
    op = CreateOperator("Not", ["X"], ["Y"])
    (y,) = check_reference(op, [x], lambda x: [naive_not(x)])
    assert infer_op(op, [shape_of(x)]) == [TensorShape(y.shape, np.bool_)]


def test_example_and_shape_function():
    ex = registry.lookup("Not").example
    op = CreateOperator("Not", ["X"], ["Y"])
    check_reference(op, [ex.inputs["X"]], lambda x: [ex.outputs["Y"]])
    assert infer_op(op, [shape_of(ex.inputs["X"])]) == [shape_of(ex.outputs["Y"])]
    assert infer_op(op, [TensorShape(None, np.bool_)]) == [TensorShape(None, np.bool_)]


def test_errors():
    op = CreateOperator("Not", ["X"], ["Y"])
    check_raises(
        op, [np.array([1, 0], np.int32)], DTypeError, "Unsupported type of tensor: int"
    )
    check_raises(
        op,
        [np.array([1.0], np.float32)],
        DTypeError,
        "Unsupported type of tensor: float",
    )
    check_raises(
        CreateOperator("Not", ["X"], ["X"]),
        [np.array([True])],
        SchemaError,
        "not supported by op Not",
    )


def test_gradient_should_not_be_asked_for():
    assert registry.gradient_entry("Not").kind == registry.SHOULD_NOT_DO
    with pytest.raises(
        GradientError, match="One should not call gradient for operator Not"
    ):
        GradientRegistry.GetBackwardPass(
            [CreateOperator("Not", ["X"], ["Y"])], {"Y": "Y_grad"}
        )
