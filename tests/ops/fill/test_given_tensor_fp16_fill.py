from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, SchemaError
from caffe2lite.inference import infer_op
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import shape_of
from caffe2lite.testing import check_raises, check_reference

OP = "GivenTensorFp16Fill"


def naive_fp16(values, shape):
    """Each value through float32 (an Argument's floats) and then float16."""
    out = np.empty(shape, np.float16)
    for v, idx in zip(values, np.ndindex(*shape)):
        with np.errstate(over="ignore"):
            out[idx] = np.float16(np.float32(v))
    return out


@pytest.mark.parametrize(
    "values, shape",
    [
        ([1.0, 2.0, 3.0], [3]),
        ([0.1, -0.2, 1e-8, 65504.0, 65520.0, -1e9], [2, 3]),
        ([0.5], []),
        ([], [0, 4]),
        ([1, 2, 3, 4], [2, 2]),  # ints are accepted for floats
    ],
)
def test_matches_naive(values, shape):
    op = CreateOperator(OP, [], ["out"], values=values, shape=shape)
    (y,) = check_reference(op, [], lambda: [naive_fp16(values, tuple(shape))])
    assert infer_op(op, []) == [shape_of(y)]


def test_shape_from_input_and_dtype_is_ignored():
    op = CreateOperator(OP, ["X"], ["X"], values=[1.5, 2.5], dtype=10)
    check_reference(
        op,
        [np.zeros((2, 1), np.int32)],
        lambda x: [np.array([[1.5], [2.5]], np.float16)],
    )
    op = CreateOperator(
        OP, ["X"], ["Y"], values=[1.0] * 6, input_as_shape=1, extra_shape=[3]
    )
    (_y,) = check_reference(
        op, [np.array([2], np.int64)], lambda x: [np.ones((2, 3), np.float16)]
    )
    (inferred,) = infer_op(op, [shape_of(np.array([2], np.int64))])
    assert inferred.dims == ("input[0]", 3) and inferred.dtype == np.float16


def test_example_and_shape_function():
    ex = registry.lookup(OP).example
    op = CreateOperator(OP, [], ["output"], **ex.args)
    check_reference(op, [], lambda: [ex.outputs["output"]])
    assert infer_op(op, []) == [shape_of(ex.outputs["output"])]


def test_errors():
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[1.0, 2.0], shape=[3]),
        [],
        EnforceError,
        "output size: 3 given size: 2",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[b"a"], shape=[1]),
        [],
        ArgumentError,
        "expected field floats",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=[1]),
        [],
        SchemaError,
        f"Argument 'values' is required for Operator '{OP}'",
    )
    check_raises(
        CreateOperator(OP, ["X"], ["Y"], values=[1.0], shape=[1]),
        [np.zeros(1)],
        ArgumentError,
        "Cannot set the shape argument",
    )


def test_no_gradient():
    assert registry.gradient_entry(OP).kind == registry.NO_GRADIENT
    ops, grads = GradientRegistry.GetBackwardPass(
        [CreateOperator(OP, ["X"], ["Y"], values=[1.0])], {"Y": "Y_grad"}
    )
    assert ops == [] and grads.get("X") is None
