from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, ShapeError
from caffe2lite.inference import infer_op
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises, check_reference

TP = caffe2_pb2.TensorProto


def naive_diagonal(shape, value, dtype):
    """A tensor whose elements with all indices equal hold ``value`` (matrices: the
    diagonal continues below row c, starting again at column 0)."""
    out = np.zeros(shape, dtype)
    if len(shape) == 2:
        r, c = shape
        for i in range(r):
            j = i % (c + 1)
            if j < c:
                out[i, j] = value
        return out
    for i in range(shape[0]):
        out[(i,) * len(shape)] = value
    return out


@pytest.mark.parametrize("shape", [[3, 3], [5, 5, 5], [7, 7, 7, 7]])
def test_caffe2_float_cases(shape):
    """Caffe2's test_diagonal_fill_op_float against np.fill_diagonal."""
    op = CreateOperator("DiagonalFill", [], ["out"], shape=shape, value=2.5)
    want = np.zeros(shape, np.float32)
    np.fill_diagonal(want, 2.5)
    check_reference(op, [], lambda: [want])
    check_reference(op, [], lambda: [naive_diagonal(tuple(shape), 2.5, np.float32)])


def test_caffe2_int_case():
    op = CreateOperator(
        "DiagonalFill", [], ["out"], shape=[3, 3], dtype=TP.INT32, value=2
    )
    check_reference(op, [], lambda: [np.diag([2, 2, 2]).astype(np.int32)])


@pytest.mark.parametrize(
    "shape",
    [[2, 3], [5, 2], [7, 3], [1, 4], [4, 1], [0, 3], [3, 0], [0, 0, 0], [1, 1, 1]],
)
def test_rectangular_and_empty_match_naive(shape):
    op = CreateOperator("DiagonalFill", [], ["out"], shape=shape, value=-1.0)
    check_reference(op, [], lambda: [naive_diagonal(tuple(shape), -1.0, np.float32)])


@pytest.mark.parametrize(
    "kwargs, dtype, value",
    [
        ({"value": 3}, np.int64, 3),
        ({}, np.float32, 0),
        ({"dtype": TP.DOUBLE, "value": 0.1}, np.float64, np.float32(0.1)),
        ({"dtype": TP.BOOL, "value": 1}, np.bool_, True),
        ({"dtype": TP.INT8, "value": -128}, np.int8, -128),
        ({"dtype": TP.UINT8, "value": 255}, np.uint8, 255),
        ({"dtype": TP.INT16, "value": 7}, np.int16, 7),
        ({"dtype": TP.UINT16, "value": 65535}, np.uint16, 65535),
        ({"dtype": TP.INT64, "value": 2**40}, np.int64, 2**40),
        ({"dtype": TP.FLOAT, "value": 4}, np.float32, 4),
    ],
)
def test_types(kwargs, dtype, value):
    op = CreateOperator("DiagonalFill", [], ["out"], shape=[2, 2], **kwargs)
    (y,) = check_reference(op, [], lambda: [naive_diagonal((2, 2), value, dtype)])
    assert infer_op(op, []) == [shape_of(y)]


def test_shape_from_input():
    op = CreateOperator("DiagonalFill", ["X"], ["Y"], value=1.0)
    check_reference(
        op,
        [np.zeros((3, 2), np.int32)],
        lambda x: [naive_diagonal((3, 2), 1.0, np.float32)],
    )
    op = CreateOperator("DiagonalFill", ["X"], ["Y"], value=1.0, extra_shape=[4])
    check_reference(
        op, [np.zeros((4,), np.int32)], lambda x: [np.eye(4, dtype=np.float32)]
    )
    op = CreateOperator("DiagonalFill", ["X"], ["Y"], value=1.0, input_as_shape=1)
    check_reference(
        op,
        [np.array([2, 2, 2], np.int64)],
        lambda x: [naive_diagonal((2, 2, 2), 1.0, np.float32)],
    )


def test_example_and_shape_function():
    ex = registry.lookup("DiagonalFill").example
    op = CreateOperator("DiagonalFill", [], ["output"], **ex.args)
    check_reference(op, [], lambda: [ex.outputs["output"]])
    assert infer_op(op, []) == [shape_of(ex.outputs["output"])]
    fn = registry.lookup("DiagonalFill").shape
    assert fn(
        TensorShape((3, "N"), np.int32),
        value=None,
        dtype=TP.UINT8,
        shape=[],
        extra_shape=[],
        input_as_shape=False,
    ) == (TensorShape((3, "N"), np.uint8),)
    with pytest.raises(ArgumentError, match="Argument 'value' is of unexpected type"):
        fn(value=b"x", dtype=None, shape=[2, 2], extra_shape=[], input_as_shape=False)


def test_errors():
    def op(**kw):
        return CreateOperator("DiagonalFill", [], ["Y"], **kw)

    check_raises(op(shape=[4], value=1.0), [], ShapeError, "Input shape must be >= 2D")
    check_raises(op(shape=[], value=1.0), [], ShapeError, "Input shape must be >= 2D")
    check_raises(
        op(shape=[2, 2, 3], value=1.0),
        [],
        ShapeError,
        "All dimensions of input must be of equal length",
    )
    check_raises(
        op(shape=[2, 2], dtype=TP.UNDEFINED),
        [],
        ArgumentError,
        "Cannot have undefined 'dtype' argument",
    )
    check_raises(
        op(shape=[2, 2], dtype=TP.STRING),
        [],
        ArgumentError,
        "Unexpected 'dtype' argument value: 4",
    )
    check_raises(
        op(shape=[2, 2], value="s"),
        [],
        ArgumentError,
        "Argument 'value' is of unexpected type",
    )
    check_raises(
        op(shape=[2, 2], dtype=TP.INT32, value=1.5),
        [],
        ArgumentError,
        "Argument value does not have the right field: expected field i",
    )
    check_raises(
        op(shape=[2, 2], dtype=TP.INT8, value=300),
        [],
        EnforceError,
        "cannot be represented correctly",
    )


def test_no_gradient():
    assert registry.gradient_entry("DiagonalFill").kind == registry.NO_GRADIENT
    ops, grads = GradientRegistry.GetBackwardPass(
        [CreateOperator("DiagonalFill", ["X"], ["Y"])], {"Y": "Y_grad"}
    )
    assert ops == [] and grads.get("X") is None
