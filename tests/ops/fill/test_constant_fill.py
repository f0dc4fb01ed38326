from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caffe2lite.schema import registry
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, DTypeError, EnforceError, SchemaError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.protoio import load_net
from caffe2lite.testing import check_raises, check_reference
from caffe2lite.workspace import Workspace

GLOW = Path(__file__).resolve().parents[3] / "shared" / "realnets" / "glow_caffe2Models"
TP = caffe2_pb2.TensorProto


def fill(inputs=(), **args):
    ws = Workspace()
    names = []
    for i, value in enumerate(inputs):
        ws.feed_blob(f"in{i}", value)
        names.append(f"in{i}")
    ws.run_operator_once(CreateOperator("ConstantFill", names, ["Y"], **args))
    return ws.fetch_blob("Y")


def same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def full_loop(shape, value, dtype):
    """np.empty then every element set in a Python loop."""
    out = np.empty(shape, dtype=dtype)
    for index in np.ndindex(*shape):
        out[index] = value
    return out


def test_doc_examples():
    same(fill(shape=[2, 3], value=4.0), full_loop((2, 3), 4.0, np.float32))
    same(fill([np.zeros(2, np.float32)], value=7), full_loop((2,), 7, np.int64))
    assert "Example:" in registry.lookup("ConstantFill").doc


def test_caffe2_doc_example_with_extra_shape():
    x = np.arange(9, dtype=np.float32).reshape(3, 3)
    same(
        fill([x], value=4.0, dtype=1, extra_shape=[1, 2]),
        full_loop((3, 3, 1, 2), 4.0, np.float32),
    )


def test_without_value_or_shape_a_float_zero_scalar():
    same(fill(), np.array(0.0, dtype=np.float32))
    same(fill(shape=[0, 3]), np.zeros((0, 3), np.float32))


def test_the_value_field_decides_the_type_without_dtype():
    same(fill(shape=[2], value=1.5), np.array([1.5, 1.5], np.float32))
    same(fill(shape=[2], value=3), np.array([3, 3], np.int64))
    same(fill(shape=[1], value=True), np.array([1], np.int64))  # a bool is stored in i


@pytest.mark.parametrize(
    "dtype, value, want",
    [
        (TP.FLOAT, 2.5, np.float32(2.5)),
        (TP.FLOAT, 2, np.float32(2)),  # an int is accepted for a float
        (TP.DOUBLE, 0.1, np.float64(np.float32(0.1))),  # the Argument keeps a float32
        (TP.BOOL, 2, True),
        (TP.BOOL, 0, False),
        (TP.INT8, -128, np.int8(-128)),
        (TP.INT16, 32767, np.int16(32767)),
        (TP.INT32, -7, np.int32(-7)),
        (TP.INT64, 1 << 40, np.int64(1 << 40)),
        (TP.UINT8, 255, np.uint8(255)),
        (TP.UINT16, 65535, np.uint16(65535)),
        (TP.STRING, "abc", b"abc"),
        ("int32", 5, np.int32(5)),  # a type name
    ],
)
def test_every_dtype(dtype, value, want):
    got = fill(shape=[2, 2], value=value, dtype=dtype)
    want_dtype = np.dtype(object) if isinstance(want, bytes) else np.asarray(want).dtype
    same(got, full_loop((2, 2), want, want_dtype))


@pytest.mark.parametrize(
    "dtype, want",
    [(TP.STRING, b""), (TP.INT32, np.int32(0)), (TP.BOOL, False), (TP.DOUBLE, 0.0)],
)
def test_default_value_of_each_type(dtype, want):
    same(
        fill(shape=[3], dtype=dtype),
        full_loop(
            (3,),
            want,
            np.asarray(want).dtype if not isinstance(want, bytes) else object,
        ),
    )


def test_shape_from_input_and_from_its_values():
    same(fill([np.zeros((2, 5), np.int32)], value=1.0), np.ones((2, 5), np.float32))
    same(
        fill(
            [np.array([3, 1, 2], np.int64)],
            value=2,
            input_as_shape=True,
            extra_shape=[4],
        ),
        np.full((3, 1, 2, 4), 2, np.int64),
    )


def test_check_reference_and_in_place():
    op = CreateOperator("ConstantFill", ["X"], ["X"], value=3.0)
    check_reference(
        op,
        [np.zeros((2, 2), np.int64)],
        lambda x: [full_loop(x.shape, 3.0, np.float32)],
    )


def op_net(op, feeds=None):
    net = caffe2_pb2.NetDef(name="fill")
    net.op.append(op)
    feeds = dict(feeds or {})
    feeds.setdefault("Y", np.array([1.0], np.float32))
    return net, feeds


@pytest.mark.parametrize(
    "inputs, args, error, match",
    [
        (
            [],
            {"extra_shape": [2]},
            ArgumentError,
            "Cannot set extra_shape when there is no input",
        ),
        (
            [],
            {"input_as_shape": True},
            ArgumentError,
            "An input must be given if input_as_shape is true",
        ),
        (
            ["X"],
            {"shape": [2]},
            ArgumentError,
            "Cannot set the shape argument and pass in an input at the same time",
        ),
        (
            [],
            {"shape": 3},
            ArgumentError,
            "Fill 'shape' argument was a scalar, list expected",
        ),
        (
            [],
            {"shape": [2], "value": "s"},
            ArgumentError,
            "Argument 'value' is of unexpected type",
        ),
        (
            [],
            {"shape": [2], "value": [1.0, 2.0]},
            ArgumentError,
            "Argument 'value' is of unexpected type",
        ),
        (
            [],
            {"shape": [2], "value": 1.5, "dtype": TP.INT32},
            ArgumentError,
            "Argument value does not have the right field: expected field i",
        ),
        (
            [],
            {"shape": [2], "value": 1, "dtype": TP.STRING},
            ArgumentError,
            "Argument value does not have the right field: expected field s",
        ),
        (
            [],
            {"shape": [2], "value": "x", "dtype": TP.DOUBLE},
            ArgumentError,
            "Argument value does not have the right field: expected field f",
        ),
        (
            [],
            {"shape": [2], "value": 300, "dtype": TP.INT8},
            EnforceError,
            "Value300 of argument valuecannot be represented correctly in a target type",
        ),
        (
            [],
            {"shape": [2], "value": -1, "dtype": TP.UINT16},
            EnforceError,
            "Value-1 of argument valuecannot be represented correctly in a target type",
        ),
        (
            [],
            {"shape": [2], "dtype": TP.UNDEFINED},
            ArgumentError,
            "ConstantFill op cannot have undefined 'dtype' argument",
        ),
        (
            [],
            {"shape": [2], "dtype": TP.FLOAT16},
            ArgumentError,
            "Unexpected 'dtype' argument value: 12",
        ),
    ],
)
def test_argument_errors(inputs, args, error, match):
    feeds = {"X": np.zeros(2, np.float32)} if inputs else {}
    net, feeds = op_net(CreateOperator("ConstantFill", inputs, ["Y"], **args), feeds)
    check_raises(net, feeds, error, match)


@pytest.mark.parametrize(
    "x, error, match",
    [
        (
            np.zeros((1, 2), np.int64),
            EnforceError,
            "When input_as_shape is true, the input must be a 1D tensor of data type int64_t",
        ),
        (np.zeros(0, np.int64), EnforceError, r"input\.numel\(\) > 0"),
        (
            np.array([2], np.int32),
            DTypeError,
            "Tensor type mismatch, caller expects elements to be long while tensor contains int",
        ),
    ],
)
def test_bad_shape_input(x, error, match):
    net, feeds = op_net(
        CreateOperator("ConstantFill", ["X"], ["Y"], input_as_shape=True), {"X": x}
    )
    err = check_raises(net, feeds, error, match)
    assert err.blob == "X"


def test_counts_and_gradient():
    net, feeds = op_net(
        CreateOperator("ConstantFill", ["A", "B"], ["Y"]),
        {"A": np.zeros(1), "B": np.zeros(1)},
    )
    check_raises(net, feeds, SchemaError, r"Input size 2 not in range \[min=0, max=1\]")
    assert registry.gradient_entry("ConstantFill").kind == registry.NO_GRADIENT


def run_glow(name, init=None):
    ws = Workspace()
    if init is not None:
        ws.run_net_once(load_net(GLOW / init))
    net = load_net(GLOW / name)
    for blob in net.external_input:
        assert ws.has_blob(blob), blob
    ws.run_net_once(net)
    return ws.fetch_blob(net.external_output[0])


@pytest.mark.skipif(
    not GLOW.is_dir(), reason="glow's Caffe2 test nets are not available"
)
def test_glow_constant_fill_nets():
    same(
        run_glow("constant_fill_use_provided_shape.pbtxt"),
        np.full((7, 11, 13, 17), 3.0, np.float32),
    )
    same(
        run_glow(
            "constant_fill_input_as_shape.pbtxt",
            "constant_fill_input_as_shape_init.pbtxt",
        ),
        np.full((17, 23, 29, 31), 3.0, np.float32),
    )
    ws = Workspace()
    ws.feed_blob("inputs_0", np.zeros((4, 5), np.int32))
    ws.run_net_once(load_net(GLOW / "constant_fill_use_input_shape.pbtxt"))
    same(ws.fetch_blob("result"), np.full((4, 5), 3.0, np.float32))


# -- shape inference (shared by every filler op) -------------------------------------


def test_shape_inference():
    import numpy as np

    from caffe2lite.core import CreateOperator
    from caffe2lite.errors import ArgumentError
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    def infer(ins, shapes, **kw):
        return infer_op(CreateOperator("ConstantFill", ins, ["Y"], **kw), shapes)

    assert infer([], [], shape=[2, 3], value=4.0) == [TensorShape((2, 3), np.float32)]
    assert infer([], [], shape=[2], value=7) == [TensorShape((2,), np.int64)]
    assert infer([], [], shape=[1], dtype=5) == [TensorShape((1,), np.bool_)]
    x = TensorShape(("N", 2), np.float32)
    assert infer(["X"], [x], value=1.0, extra_shape=[5]) == [
        TensorShape(("N", 2, 5), np.float32)
    ]
    as_shape = infer(["X"], [TensorShape((3,), np.int64)], value=1.0, input_as_shape=1)
    assert as_shape == [TensorShape(("input[0]", "input[1]", "input[2]"), np.float32)]
    assert infer(["X"], [TensorShape(None, np.int64)], value=1.0)[0].dims is None
    with pytest.raises(ArgumentError, match="Cannot set the shape argument"):
        infer(["X"], [x], shape=[2])
    with pytest.raises(
        ArgumentError, match="Cannot set extra_shape when there is no input"
    ):
        infer([], [], extra_shape=[2])
