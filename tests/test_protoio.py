"""Reading and writing protobuf files: format choice, exact error messages."""

from __future__ import annotations

import os

import pytest

from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.io.protoio import (
    find_wire_problem,
    load_net,
    load_plan,
    load_proto,
    net_to_text,
    parse_message,
    save_proto,
)

NET = caffe2_pb2.NetDef(name="n", external_input=["X"])
NET.op.add(type="Relu", input=["X"], output=["Y"]).arg.add(name="alpha", f=0.5)
NET_TEXT = (
    'name: "n"\nop {\n  input: "X"\n  output: "Y"\n  type: "Relu"\n  arg {\n'
    '    name: "alpha"\n    f: 0.5\n  }\n}\nexternal_input: "X"\n'
)


def _nested(field_key: int, payload: bytes) -> bytes:
    return bytes([field_key, len(payload)]) + payload


# NetDef.op[0].arg[0] holding field 21, which Argument does not have.
UNKNOWN_FIELD = _nested(0x12, _nested(0x2A, b"\xa8\x01\x01"))
# NetDef.op[0].arg[0].t.data_type = 11, a number DataType does not define.
UNKNOWN_ENUM = _nested(0x12, _nested(0x2A, _nested(0x52, b"\x10\x0b")))
# A binary NetDef whose bytes are not UTF-8 (the float 1.0 has a 0x80 byte).
BINARY = caffe2_pb2.NetDef(
    op=[caffe2_pb2.OperatorDef(arg=[caffe2_pb2.Argument(f=1.0)])]
)


def test_net_to_text():
    assert net_to_text(NET) == NET_TEXT


@pytest.mark.parametrize("name", ["net.pb", "net.bin", "net", "NET.PB"])
def test_binary_or_text_content_loads_when_the_name_allows_both(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(NET.SerializeToString())
    assert load_net(path) == NET
    path.write_text(NET_TEXT)
    assert load_net(path) == NET


@pytest.mark.parametrize("name", ["net.pbtxt", "net.prototxt", "net.txt", "NET.PBTXT"])
def test_text_names_are_read_as_text_only(tmp_path, name):
    path = tmp_path / name
    path.write_text(NET_TEXT)
    assert load_net(path) == NET
    path.write_bytes(BINARY.SerializeToString())
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert str(info.value) == (
        f"cannot parse {path} as caffe2.NetDef: as text: not UTF-8 text (byte 0x80 at 7)"
    )


@pytest.mark.parametrize("name", ["empty.pb", "empty.pbtxt", "empty"])
def test_an_empty_file_is_an_empty_message(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert load_net(tmp_path / name) == caffe2_pb2.NetDef()
    assert load_plan(tmp_path / name) == caffe2_pb2.PlanDef()


def test_both_errors_are_reported(tmp_path):
    path = tmp_path / "net.pb"
    path.write_text('nme: "x"\n')
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert str(info.value) == (
        f"cannot parse {path} as caffe2.NetDef: "
        "as binary: caffe2.NetDef: invalid tag 110 (field 13, wire type 6) at byte 0; "
        'as text: 1:1 : Message type "caffe2.NetDef" has no field named "nme".'
    )


@pytest.mark.parametrize(
    "data, message",
    [
        (UNKNOWN_FIELD,
         ("as binary: caffe2.NetDef.op[0].arg[0]: unknown field number 21 at byte 4; "
         "as text: not UTF-8 text (byte 0xa8 at 4)")),
        (NET.SerializeToString() + b"\xa0\x06\x01",
         ("as binary: caffe2.NetDef: unknown field number 100 at byte 34; "
         "as text: not UTF-8 text (byte 0xa0 at 34)")),
    ],
)  # fmt: skip
def test_unknown_binary_fields_are_named(tmp_path, data, message):
    path = tmp_path / "net.pb"
    path.write_bytes(data)
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert str(info.value) == f"cannot parse {path} as caffe2.NetDef: {message}"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x0a\x05ab", "caffe2.NetDef: data ends inside the field that starts at byte 0"),
        (b"\x12\x05\x22\x01a", "caffe2.NetDef: data ends inside the field that starts at byte 0"),
        (b"\x12\x03\x22\x05a", "caffe2.NetDef.op[0]: data ends inside the field that starts at byte 2"),
        (UNKNOWN_ENUM,
         "caffe2.NetDef.op[0].arg[0].t.data_type: 11 is not a value of caffe2.TensorProto.DataType"),
        (b"\x08\x01", "caffe2.NetDef.name: wire type 0, expected 2, at byte 0"),
        (b"\x00", "caffe2.NetDef: invalid tag 0 (field 0, wire type 0) at byte 0"),
        (b"\x4a\x02\x10\x01", "missing required fields: partition_info[0].name"),
    ],
)  # fmt: skip
def test_malformed_binary(data, message):
    with pytest.raises(ProtoParseError) as info:
        parse_message(data, caffe2_pb2.NetDef, fmt="binary")
    assert (
        str(info.value)
        == f"cannot parse <bytes> as caffe2.NetDef: as binary: {message}"
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ('name: "x"\nop {\n  type: "Relu"\n  foo: 1\n}\n',
         '4:3 : Message type "caffe2.OperatorDef" has no field named "foo".'),
        ("op {\n", '1:4 : Expected "}".'),
        ("partition_info { device_id: 1 }", "missing required fields: partition_info[0].name"),
    ],
)  # fmt: skip
def test_malformed_text_names_line_and_column(tmp_path, text, message):
    path = tmp_path / "net.pbtxt"
    path.write_text(text)
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert (
        str(info.value) == f"cannot parse {path} as caffe2.NetDef: as text: {message}"
    )


def test_unreadable_files(tmp_path):
    missing = tmp_path / "missing.pb"
    with pytest.raises(ProtoParseError) as info:
        load_net(missing)
    assert str(info.value) == f"cannot read {missing}: No such file or directory"
    with pytest.raises(ProtoParseError) as info:
        load_net(tmp_path)
    assert str(info.value) == f"cannot read {tmp_path}: Is a directory"


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root reads any file"
)
def test_unreadable_file_permission(tmp_path):
    path = tmp_path / "secret.pb"
    path.write_bytes(b"")
    path.chmod(0)
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert str(info.value) == f"cannot read {path}: Permission denied"


def test_parse_message_options():
    assert parse_message(NET_TEXT.encode(), caffe2_pb2.NetDef, fmt="text") == NET
    assert (
        parse_message(NET.SerializeToString(), caffe2_pb2.NetDef, fmt="binary") == NET
    )
    tensor = caffe2_pb2.TensorProto(dims=[1], float_data=[2.0])
    assert parse_message(tensor.SerializeToString(), caffe2_pb2.TensorProto) == tensor
    with pytest.raises(ProtoParseError) as info:
        parse_message(NET_TEXT.encode(), caffe2_pb2.NetDef, name="x.bin", fmt="binary")
    assert str(info.value) == (
        "cannot parse x.bin as caffe2.NetDef: as binary: "
        "caffe2.NetDef: invalid tag 110 (field 13, wire type 6) at byte 0"
    )
    with pytest.raises(Caffe2LiteError) as info:
        parse_message(b"", caffe2_pb2.NetDef, fmt="json")
    assert str(info.value) == (
        "unknown protobuf format 'json' (expected 'binary', 'text' or None)"
    )


def test_load_proto_reads_any_message(tmp_path):
    tensors = caffe2_pb2.TensorProtos(
        protos=[caffe2_pb2.TensorProto(name="t", dims=[0])]
    )
    save_proto(tensors, tmp_path / "t.pb")
    assert load_proto(tmp_path / "t.pb", caffe2_pb2.TensorProtos) == tensors
    save_proto(NET, tmp_path / "n.pbtxt")
    assert (tmp_path / "n.pbtxt").read_text() == NET_TEXT
    assert (
        find_wire_problem(NET.SerializeToString(), caffe2_pb2.NetDef.DESCRIPTOR) is None
    )


def test_save_errors(tmp_path):
    bad = caffe2_pb2.NetDef()
    bad.partition_info.add(device_id=[1])
    for name in ("bad.pb", "bad.pbtxt"):
        with pytest.raises(Caffe2LiteError) as info:
            save_proto(bad, tmp_path / name)
        assert str(info.value) == (
            f"cannot write {tmp_path / name}: caffe2.NetDef is missing required fields: "
            "partition_info[0].name"
        )
        assert not (tmp_path / name).exists()
    target = tmp_path / "no_such_dir" / "n.pb"
    with pytest.raises(Caffe2LiteError) as info:
        save_proto(NET, target)
    assert str(info.value) == f"cannot write {target}: No such file or directory"
