from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, EnforceError, SchemaError
from caffe2lite.inference import infer_op
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema import registry
from caffe2lite.schema.shapes import TensorShape, shape_of
from caffe2lite.testing import check_raises, check_reference

TP = caffe2_pb2.TensorProto
OP = "GivenTensorByteStringToUInt8Fill"


def naive_bytes(data, shape):
    out = np.empty(shape, np.uint8)
    for i, idx in enumerate(np.ndindex(*shape)):
        out[idx] = data[i]
    return out


def test_caffe2_doc_case():
    val = np.array([1, 2, 3], dtype=np.uint8)
    op = CreateOperator(OP, [], ["out"], values=[val.tobytes()], shape=val.shape)
    check_reference(op, [], lambda: [val])


@pytest.mark.parametrize("shape", [[2, 3], [6], [1, 2, 3], [], [0], [2, 0]])
def test_matches_naive(shape):
    size = int(np.prod(shape))
    data = bytes((7 * i + 250) % 256 for i in range(size))
    op = CreateOperator(OP, [], ["out"], values=[data], shape=shape)
    (y,) = check_reference(op, [], lambda: [naive_bytes(data, tuple(shape))])
    assert infer_op(op, []) == [shape_of(y)]


def test_shape_from_input_dtype_string_and_in_place():
    op = CreateOperator(OP, ["X"], ["X"], values=[b"abcdef"], dtype=TP.STRING)
    check_reference(
        op,
        [np.zeros((3, 2), np.float32)],
        lambda x: [np.frombuffer(b"abcdef", np.uint8).reshape(3, 2)],
    )
    op = CreateOperator(
        OP, ["X"], ["Y"], values=[b"\x00\xff"], input_as_shape=1, extra_shape=[1]
    )
    check_reference(
        op, [np.array([2], np.int64)], lambda x: [np.array([[0], [255]], np.uint8)]
    )


def test_example_and_shape_function():
    ex = registry.lookup(OP).example
    op = CreateOperator(OP, [], ["output"], **ex.args)
    check_reference(op, [], lambda: [ex.outputs["output"]])
    assert infer_op(op, []) == [shape_of(ex.outputs["output"])]
    assert registry.lookup(OP).shape(
        TensorShape((4, 2), np.float32),
        shape=[],
        extra_shape=[],
        input_as_shape=False,
    ) == (TensorShape((4, 2), np.uint8),)


def test_errors():
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[b"abc"], shape=[2]),
        [],
        EnforceError,
        "output size: 2 given size: 3",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[b"a", b"b"], shape=[1]),
        [],
        EnforceError,
        "expected size: 1  given size: 2",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[1, 2], shape=[2]),
        [],
        ArgumentError,
        "expected field strings",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[b"ab"], shape=[2], dtype=TP.INT32),
        [],
        ArgumentError,
        "Unexpected 'dtype' argument value: 2",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], values=[b"ab"], shape=[2], dtype=TP.UNDEFINED),
        [],
        ArgumentError,
        "Cannot have undefined 'dtype' argument",
    )
    check_raises(
        CreateOperator(OP, [], ["Y"], shape=[2]),
        [],
        SchemaError,
        f"Argument 'values' is required for Operator '{OP}'",
    )


def test_no_gradient():
    assert registry.gradient_entry(OP).kind == registry.NO_GRADIENT
    ops, grads = GradientRegistry.GetBackwardPass(
        [CreateOperator(OP, ["X"], ["Y"], values=[b"a"])], {"Y": "Y_grad"}
    )
    assert ops == [] and grads.get("X") is None
