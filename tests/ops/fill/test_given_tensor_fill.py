from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, EnforceError, SchemaError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.protoio import load_net
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

GLOW = Path(__file__).resolve().parents[3] / "shared" / "realnets" / "glow_caffe2Models"
TP = caffe2_pb2.TensorProto
OPS = {
    "GivenTensorFill": np.float32,
    "GivenTensorDoubleFill": np.float64,
    "GivenTensorBoolFill": np.bool_,
    "GivenTensorInt16Fill": np.int16,
    "GivenTensorIntFill": np.int32,
    "GivenTensorInt64Fill": np.int64,
    "GivenTensorStringFill": object,
}
VALUES = {
    np.float32: [0.5, -1.25, 3.0, 1e-3, 2.0, 7.0],
    np.float64: [0.1, 2.0, -3.5, 4.0, 5.0, 6.0],
    np.bool_: [1, 0, 2, -1, 0, 1],
    np.int16: [-32768, 32767, 0, 1, 2, 3],
    np.int32: [-(1 << 31), (1 << 31) - 1, 0, 5, 6, 7],
    np.int64: [-(1 << 63), (1 << 63) - 1, 0, 17, 23, 29],
    object: ["a", "", "bc", "d", "e", "f"],
}


def reference(values, shape, dtype):
    """Element by element, in row-major order, as Caffe2's argument reader converts."""
    out = np.empty(shape, dtype=dtype)
    flat = out.reshape(-1)
    for i, v in enumerate(values):
        if dtype is object:
            flat[i] = v.encode()
        elif dtype in (np.float32, np.float64):
            flat[i] = float(np.float32(v))  # an Argument stores float32
        else:
            flat[i] = bool(v) if dtype is np.bool_ else int(v)
    return out


def fill(op_type, inputs=(), **args):
    ws = Workspace()
    for i, value in enumerate(inputs):
        ws.feed_blob(f"in{i}", value)
    ws.run_operator_once(
        CreateOperator(op_type, [f"in{i}" for i in range(len(inputs))], ["out"], **args)
    )
    return ws.fetch_blob("out")


def same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op_type, dtype", OPS.items())
@pytest.mark.parametrize("shape", [[6], [2, 3], [3, 1, 2]])
def test_values_in_shape(op_type, dtype, shape):
    same(
        fill(op_type, values=VALUES[dtype], shape=shape),
        reference(VALUES[dtype], shape, dtype),
    )


@pytest.mark.parametrize("op_type, dtype", OPS.items())
def test_empty_and_scalar(op_type, dtype):
    same(fill(op_type, values=[], shape=[0, 4]), np.empty((0, 4), dtype=dtype))
    same(
        fill(op_type, values=VALUES[dtype][:1]), reference(VALUES[dtype][:1], (), dtype)
    )


@pytest.mark.parametrize("op_type, dtype", OPS.items())
def test_shape_from_an_input(op_type, dtype):
    x = np.zeros((2, 1), np.float32)
    same(
        fill(op_type, [x], values=VALUES[dtype], extra_shape=[3]),
        reference(VALUES[dtype], (2, 1, 3), dtype),
    )
    same(
        fill(
            op_type,
            [np.array([3, 2], np.int64)],
            values=VALUES[dtype],
            input_as_shape=True,
        ),
        reference(VALUES[dtype], (3, 2), dtype),
    )
    op = CreateOperator(
        op_type, ["X"], ["X"], values=VALUES[dtype]
    )  # in place is allowed
    check_reference(
        op, [np.zeros(6, np.int64)], lambda x: [reference(VALUES[dtype], (6,), dtype)]
    )


@pytest.mark.parametrize(
    "dtype, values, want_dtype",
    [
        (TP.FLOAT, [1.5, 2.0], np.float32),
        (TP.DOUBLE, [1.5, 2.0], np.float64),
        (TP.BOOL, [0, 3], np.bool_),
        (TP.UINT16, [0, 65535], np.uint16),
        (TP.INT16, [-5, 5], np.int16),
        (TP.INT32, [-5, 5], np.int32),
        (TP.INT64, [1 << 40, 5], np.int64),
        (TP.STRING, ["x", "yz"], object),
        ("int64", [1, 2], np.int64),
    ],
)
def test_given_tensor_fill_dtype_argument(dtype, values, want_dtype):
    same(
        fill("GivenTensorFill", values=values, shape=[2], dtype=dtype),
        reference(values, (2,), want_dtype),
    )


def test_the_typed_variants_ignore_dtype():
    same(
        fill("GivenTensorIntFill", values=[1, 2], shape=[2], dtype=TP.STRING),
        np.array([1, 2], np.int32),
    )


def op_net(op, feeds=None):
    net = caffe2_pb2.NetDef(name="given")
    net.op.append(op)
    feeds = dict(feeds or {})
    feeds.setdefault("out", np.array([1.0], np.float32))
    return net, feeds


@pytest.mark.parametrize(
    "op_type, args, error, match",
    [
        (
            "GivenTensorFill",
            {"values": [1.0, 2.0], "shape": [3]},
            EnforceError,
            "output size: 3 given size: 2",
        ),
        (
            "GivenTensorStringFill",
            {"values": ["a"] * 5, "shape": [2, 2]},
            EnforceError,
            "output size: 4 given size: 5",
        ),
        (
            "GivenTensorIntFill",
            {"shape": [2]},
            ArgumentError,
            "Argument 'values' is required for Operator 'GivenTensorIntFill'.",
        ),
        (
            "GivenTensorIntFill",
            {"values": [1.0, 2.0], "shape": [2]},
            ArgumentError,
            "Argument values does not have the right field: expected field ints",
        ),
        (
            "GivenTensorStringFill",
            {"values": [1, 2], "shape": [2]},
            ArgumentError,
            "Argument values does not have the right field: expected field strings",
        ),
        (
            "GivenTensorFill",
            {"values": ["a"], "shape": [1]},
            ArgumentError,
            "Argument values does not have the right field: expected field floats",
        ),
        (
            "GivenTensorDoubleFill",
            {"values": 1.0, "shape": [1]},
            ArgumentError,
            "Argument values does not have the right field: expected field floats",
        ),
        (
            "GivenTensorIntFill",
            {"values": [1 << 31], "shape": [1]},
            EnforceError,
            "Value2147483648 of argument valuescannot be represented correctly in a target type",
        ),
        (
            "GivenTensorInt16Fill",
            {"values": [0, -40000], "shape": [2]},
            EnforceError,
            "Value-40000 of argument valuescannot be represented correctly in a target type",
        ),
        (
            "GivenTensorFill",
            {"values": [1], "shape": [1], "dtype": TP.UNDEFINED},
            ArgumentError,
            "Cannot have undefined 'dtype' argument",
        ),
        (
            "GivenTensorFill",
            {"values": [1], "shape": [1], "dtype": TP.UINT8},
            ArgumentError,
            "Unexpected 'dtype' argument value: 6",
        ),
        (
            "GivenTensorFill",
            {"values": [1.0], "extra_shape": [1]},
            ArgumentError,
            "Cannot set extra_shape when there is no input",
        ),
        (
            "GivenTensorInt64Fill",
            {"values": [1], "shape": 1},
            ArgumentError,
            "Fill 'shape' argument was a scalar, list expected",
        ),
    ],
)
def test_errors_leave_blobs_unchanged(op_type, args, error, match):
    net, feeds = op_net(CreateOperator(op_type, [], ["out"], **args))
    check_raises(net, feeds, error, match)


def test_shape_argument_with_an_input_and_too_many_inputs():
    net, feeds = op_net(
        CreateOperator("GivenTensorFill", ["X"], ["out"], values=[1.0], shape=[1]),
        {"X": np.zeros(1)},
    )
    check_raises(
        net,
        feeds,
        ArgumentError,
        "Cannot set the shape argument and pass in an input at the same time",
    )
    net, feeds = op_net(
        CreateOperator("GivenTensorFill", ["X", "Y"], ["out"], values=[1.0]),
        {"X": np.zeros(1), "Y": np.zeros(1)},
    )
    check_raises(net, feeds, SchemaError, r"Input size 2 not in range \[min=0, max=1\]")


@pytest.mark.parametrize("op_type", OPS)
def test_no_gradient_and_documented(op_type):
    assert registry.gradient_entry(op_type).kind == registry.NO_GRADIENT
    assert "Example:" in registry.lookup(op_type).doc


@pytest.mark.skipif(
    not GLOW.is_dir(), reason="glow's Caffe2 test nets are not available"
)
def test_glow_fill_test_init_net():
    ws = Workspace()
    net = load_net(GLOW / "fill_test_init_net.pbtxt")
    for op in net.op:  # GivenTensorByteStringToUInt8Fill is not one of these fills
        if registry.find(op.type) is not None:
            ws.run_operator_once(op)
    same(
        ws.fetch_blob("tensor_fill_float"), np.arange(4, dtype=np.float32).reshape(2, 2)
    )
    same(ws.fetch_blob("tensor_int_fill"), np.arange(4, dtype=np.int32).reshape(2, 2))
    same(ws.fetch_blob("tensor_int64_fill"), np.arange(4, dtype=np.int64).reshape(2, 2))


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    for op_type, dtype in [
        ("GivenTensorFill", np.float32),
        ("GivenTensorDoubleFill", np.float64),
        ("GivenTensorBoolFill", np.bool_),
        ("GivenTensorInt16Fill", np.int16),
        ("GivenTensorIntFill", np.int32),
        ("GivenTensorInt64Fill", np.int64),
        ("GivenTensorStringFill", object),
    ]:
        op = CreateOperator(op_type, [], ["Y"], values=[1, 2], shape=[2])
        assert infer_op(op, []) == [TensorShape((2,), dtype)], op_type
    typed = CreateOperator(
        "GivenTensorFill", [], ["Y"], values=[1], shape=[1], dtype=10
    )
    assert infer_op(typed, []) == [TensorShape((1,), np.int64)]
