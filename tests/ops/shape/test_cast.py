from __future__ import annotations

import math

import numpy as np
import pytest

from caffe2lite import testing
from caffe2lite.core import CreateOperator, GradientRegistry
from caffe2lite.errors import ArgumentError, DTypeError, GradientError
from caffe2lite.proto import caffe2_pb2

DT = caffe2_pb2.TensorProto

SOURCES = [np.float32, np.int32, np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.int64,
           np.float64]
TARGETS = {DT.FLOAT: np.float32, DT.INT32: np.int32, DT.BOOL: np.bool_, DT.UINT8: np.uint8,
           DT.INT8: np.int8, DT.UINT16: np.uint16, DT.INT16: np.int16, DT.INT64: np.int64,
           DT.DOUBLE: np.float64}


def naive_cast(x, dtype):
    """C++ static_cast, one element at a time: truncate floats, nonzero -> true."""
    out = []
    for v in x.reshape(-1).tolist():
        if dtype is np.bool_:
            out.append(v != 0)
        elif np.dtype(dtype).kind in "iu":
            out.append(int(math.trunc(v)))
        else:
            out.append(float(v))
    return np.array(out, dtype=dtype).reshape(x.shape)


@pytest.mark.parametrize("src", SOURCES)
@pytest.mark.parametrize("to", sorted(TARGETS))
def test_every_pair_matches_naive_loop(src, to):
    x = np.array([[0, 1, 7], [3, 100, 2]]).astype(src)
    if np.dtype(src).kind == "f":
        x = np.array([[0.0, -0.0, 1.9], [2.5, 100.7, 3.0]], dtype=src)
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to=int(to)), [x],
                            lambda v: [naive_cast(v, TARGETS[to])], atol=0, rtol=0)


def test_negative_floats_truncate_toward_zero():
    x = np.array([-1.7, -0.2, 1.7], np.float32)
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to=int(DT.INT64)), [x],
                            lambda v: [np.array([-1, 0, 1], np.int64)])


@pytest.mark.parametrize("name,dtype", [("float", np.float32), ("INT64", np.int64),
                                        ("Double", np.float64), ("bool", np.bool_)])
def test_type_names(name, dtype):
    x = np.array([1, 0, 2], np.int32)
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to=name), [x],
                            lambda v: [naive_cast(v, dtype)])


def test_missing_to_means_float_and_empty_and_scalar():
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"]), [np.array([1, 2], np.int64)],
                            lambda v: [np.array([1, 2], np.float32)])
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to=int(DT.INT32)),
                            [np.zeros((0, 3), np.float64)], lambda v: [np.zeros((0, 3), np.int32)])
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to=int(DT.INT32)),
                            [np.array(2.5)], lambda v: [np.array(2, np.int32)])


def test_to_string_uses_cpp_to_string():
    x = np.array([1.5, -2.0], np.float32)
    want = np.array([b"1.500000", b"-2.000000"], dtype=object)
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to="STRING"), [x],
                            lambda v: [want])
    b = np.array([True, False])
    testing.check_reference(CreateOperator("Cast", ["X"], ["Y"], to=int(DT.STRING)), [b],
                            lambda v: [np.array([b"1", b"0"], dtype=object)])


def test_errors():
    x = np.ones(2, np.float32)
    cases = [(0, "Cast op must have 'to' argument of type DataType"),
             (int(DT.FLOAT16), "Casting to and from at::Half on CPU is not supported yet"),
             (int(DT.BYTE), "BYTE is deprecated"), (99, "Unexpected 'to' argument value: 99"),
             ("int", "Unknown 'to' argument: INT"),
             (1.0, "Argument to does not have the right field: expected field i")]
    for to, message in cases:
        testing.check_raises(CreateOperator("Cast", ["X"], ["Y"], to=to), [x], ArgumentError,
                             message)
    testing.check_raises(CreateOperator("Cast", ["X"], ["Y"], to=1),
                         [np.array([b"a"], dtype=object)], DTypeError,
                         "Unsupported type of tensor: std::string")
    testing.check_raises(CreateOperator("Cast", ["X"], ["Y"], to=1), [np.ones(2, np.float16)],
                         DTypeError, "Unsupported type of tensor: c10::Half")


def test_gradient_casts_back_without_copying_arguments():
    op = CreateOperator("Cast", ["X"], ["Y"], to="float", from_type=int(DT.DOUBLE))
    ops, grads = GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})
    want = CreateOperator("Cast", ["Y_grad"], ["X_grad"], to=int(DT.DOUBLE),
                          from_type=int(DT.FLOAT))
    want.is_gradient_op = True
    assert [o.SerializeToString() for o in ops] == [want.SerializeToString()]
    assert str(grads["X"]) == "X_grad"
    op = CreateOperator("Cast", ["X"], ["Y"], to=int(DT.DOUBLE), from_type="double")
    testing.check_gradient(op, [np.array([1.5, -2.0])], 0)


def test_gradient_needs_from_type():
    op = CreateOperator("Cast", ["X"], ["Y"], to=int(DT.DOUBLE))
    with pytest.raises(GradientError, match="Argument 'from_type' of type int or string is "
                                            "required to get the gradient of CastOp"):
        GradientRegistry.GetBackwardPass([op], {"Y": "Y_grad"})


def test_shape_inference():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    x = TensorShape(("N", 2), np.float32)
    for to, dtype in [
        (2, np.int32),
        ("INT64", np.int64),
        (None, np.float32),
        ("double", np.float64),
        (5, np.bool_),
    ]:
        op = CreateOperator("Cast", ["X"], ["Y"], to=to)
        assert infer_op(op, [x]) == [TensorShape(("N", 2), dtype)]
    with pytest.raises(ArgumentError, match="BYTE is deprecated"):
        infer_op(CreateOperator("Cast", ["X"], ["Y"], to=3), [x])
