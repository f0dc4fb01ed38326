from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.io.arguments import argument_value, make_argument, operator_def, typed_value
from caffe2lite.errors import ApiValueError, ArgumentError
from caffe2lite.proto import caffe2_pb2


def _fields(arg):
    return {f.name: v for f, v in arg.ListFields() if f.name != "name"}


@pytest.mark.parametrize(
    "value, field, stored",
    [
        (0.5, "f", 0.5),
        (3, "i", 3),
        (True, "i", 1),
        (np.int64(7), "i", 7),
        (np.float32(0.25), "f", 0.25),
        (b"raw", "s", b"raw"),
        ("text", "s", b"text"),
        ([1.0, 2.5], "floats", [1.0, 2.5]),
        ([1, 2, 3], "ints", [1, 2, 3]),
        ([True, False], "ints", [1, 0]),
        (["a", b"b"], "strings", [b"a", b"b"]),
        (np.array([1.5, 2.0], dtype=np.float32), "floats", [1.5, 2.0]),
        (np.array([[1, 2], [3, 4]]), "ints", [1, 2, 3, 4]),
    ],
)
def test_make_argument_follows_caffe2_fields(value, field, stored):
    arg = make_argument("a", value)
    fields = _fields(arg)
    assert list(fields) == [field]
    got = fields[field]
    assert (list(got) if field in ("floats", "ints", "strings") else got) == stored


def test_make_argument_netdef_and_messages():
    net = caffe2_pb2.NetDef(name="inner")
    assert make_argument("n", net).n.name == "inner"
    assert make_argument("nets", [net, net]).nets[1].name == "inner"
    option = caffe2_pb2.DeviceOption(random_seed=3)
    assert make_argument("opt", option).s == option.SerializeToString()


def test_make_argument_rejects_unknown_types():
    with pytest.raises(ApiValueError, match="Unknown argument type: key=x value=.* value type="):
        make_argument("x", {"a": 1})
    with pytest.raises(ValueError):
        make_argument("x", [1, "a"])


def test_argument_value_reads_back_any_field():
    assert argument_value(make_argument("a", 2.5)) == 2.5
    assert argument_value(make_argument("a", [4, 5])) == [4, 5]
    assert argument_value(caffe2_pb2.Argument(name="empty")) == []


def test_typed_value_accepts_int_for_float_but_not_float_for_int():
    assert typed_value(make_argument("ratio", 1), "float", "Op") == 1.0
    with pytest.raises(ArgumentError) as e:
        typed_value(make_argument("replacement_value", 1.5), "int", "Op")
    assert str(e.value) == (
        "Argument replacement_value does not have the right field: expected field i "
        "(argument 'replacement_value': expected field i (int), found f)")


def test_typed_value_lists_strings_and_dtypes():
    assert typed_value(make_argument("shape", [2, 3]), "ints", "Op") == [2, 3]
    assert typed_value(make_argument("v", [1, 2]), "floats", "Op") == [1.0, 2.0]
    assert typed_value(make_argument("names", ["a"]), "strings", "Op") == ["a"]
    assert typed_value(make_argument("to", "int64"), "dtype", "Op") == caffe2_pb2.TensorProto.INT64
    assert typed_value(make_argument("to", 1), "dtype", "Op") == caffe2_pb2.TensorProto.FLOAT
    with pytest.raises(ArgumentError, match="unknown data type name"):
        typed_value(make_argument("to", "complex"), "dtype", "Op")
    with pytest.raises(ArgumentError, match="expected field ints"):
        typed_value(make_argument("shape", 3), "ints", "Op")


def test_operator_def_skips_none_and_keeps_order():
    op = operator_def("Op", ["a"], "b", name="n", engine="E", x=1, y=None, z=2.0)
    assert (op.type, list(op.input), list(op.output), op.name, op.engine) == (
        "Op", ["a"], ["b"], "n", "E")
    assert [a.name for a in op.arg] == ["x", "z"]


def test_text_argument_that_is_not_utf8_names_the_op_and_argument():
    from caffe2lite import core, workspace

    workspace.ResetWorkspace()
    op = core.CreateOperator("ConstantFill", [], ["Y"], shape=[1], dtype=b"\xffx")
    with pytest.raises(ArgumentError) as e:
        workspace.RunOperatorOnce(op)
    assert str(e.value) == (
        "op ConstantFill: Argument dtype is not valid UTF-8 text (byte 0: b'\\xff') "
        "(argument 'dtype': expected UTF-8 text, found b'\\xffx')")
    assert not workspace.HasBlob("Y")
    # bytes arguments stay bytes: any value is allowed
    workspace.RunOperatorOnce(core.CreateOperator(
        "GivenTensorStringFill", [], ["S"], shape=[1], values=[b"\xff"]))
    assert workspace.FetchBlob("S").tolist() == [b"\xff"]
