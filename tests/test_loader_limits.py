"""The loaders' limits (caffe2lite.io.limits) and what they refuse: nesting, text
fields that are not UTF-8, files of another message type, ops per net, argument
and file sizes; text and binary agree, and what loads saves and loads back."""

from __future__ import annotations

from pathlib import Path

import pytest

from caffe2lite.cli.common import load_graph
from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.io import limits
from caffe2lite.io.protoio import load_net, load_plan, parse_message, save_proto
from caffe2lite.proto import caffe2_pb2

NetDef, PlanDef = caffe2_pb2.NetDef, caffe2_pb2.PlanDef
NESTING = "more than the limit of 100 (caffe2lite.io.limits.MAX_NESTING)"


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field, written by hand (protobuf cannot build deep ones)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def plan_bytes(substeps: int) -> bytes:
    """A binary PlanDef: one execution_step with ``substeps`` nested substeps
    (nesting depth ``substeps + 1``)."""
    step = field(1, b"leaf")
    for _ in range(substeps):
        step = field(2, step)
    return field(3, step)


def net_bytes(levels: int, via: int = 8) -> bytes:
    """A binary NetDef nesting ``levels`` nets through op -> arg -> n (via=8) or
    nets (via=9): depth 3 * levels."""
    net = field(1, b"leaf")
    for _ in range(levels):
        net = field(2, field(5, field(1, b"a") + field(via, net)))
    return net


def net_text(levels: int, via: str = "n") -> str:
    return (
        f'op {{ arg {{ name: "a" {via} {{ ' * levels
        + 'name: "leaf" '
        + "} } } " * levels
    )


def plan_text(substeps: int) -> str:
    return (
        "execution_step { "
        + "substep { " * substeps
        + 'name: "x" '
        + "} " * (substeps + 1)
    )


@pytest.mark.parametrize(
    "make, cls, ok, too_deep",
    [
        (plan_bytes, PlanDef, 99, 100),
        (net_bytes, NetDef, 33, 34),
        (lambda n: net_bytes(n, via=9), NetDef, 33, 34),
        (lambda n: plan_text(n).encode(), PlanDef, 99, 100),
        (lambda n: net_text(n).encode(), NetDef, 33, 34),
        (lambda n: net_text(n, "nets").encode(), NetDef, 33, 34),
    ],
)
def test_one_nesting_limit_for_text_and_binary_nets_and_plans(
    tmp_path, make, cls, ok, too_deep
):
    msg = parse_message(make(ok), cls)
    # What loads saves and loads back, in both formats.
    for name in ("back.pb", "back.pbtxt"):
        save_proto(msg, tmp_path / name)
        assert parse_message((tmp_path / name).read_bytes(), cls) == msg
    with pytest.raises(ProtoParseError) as info:
        parse_message(make(too_deep), cls, name="f.pb")
    text = str(info.value)
    assert text.startswith(f"cannot parse f.pb as {cls.DESCRIPTOR.full_name}: ")
    assert "messages nested 101 deep, " + NESTING in text


def test_depth_error_names_file_path_and_depth(tmp_path):
    path = tmp_path / "deep.pb"
    path.write_bytes(plan_bytes(150))
    with pytest.raises(ProtoParseError) as info:
        load_plan(path)
    assert str(info.value) == (
        f"cannot parse {path} as caffe2.PlanDef: as binary: caffe2.PlanDef"
        ".execution_step[0].substep[0].substep[0].substep[0]"
        "(... 91 more ...).substep[0].substep[0].substep[0].substep[0].substep[0]"
        ".substep[0]: "
        "messages nested 101 deep, " + NESTING
    )
    path = tmp_path / "deep.pbtxt"
    path.write_text("# deep\n" + plan_text(150))
    with pytest.raises(ProtoParseError) as info:
        load_plan(path)
    assert str(info.value) == (
        f"cannot parse {path} as caffe2.PlanDef: as text: caffe2.PlanDef (line 2): "
        "messages nested 101 deep, " + NESTING
    )


def test_a_deep_plan_is_never_read_as_an_empty_net(tmp_path):
    path = tmp_path / "plan.pb"
    path.write_bytes(plan_bytes(150))
    for load in (load_net, load_graph):
        with pytest.raises(ProtoParseError) as info:
            load(path)
        text = str(info.value)
        assert text.startswith(
            f"cannot parse {path} as caffe2.NetDef: as binary: not a caffe2.NetDef: "
            "the data is a caffe2.PlanDef (which cannot be read either: caffe2.PlanDef."
        )
        assert text.endswith("messages nested 101 deep, " + NESTING + ")")
    path.write_bytes(plan_bytes(3))
    assert len(load_graph(path).execution_step) == 1


def test_save_refuses_what_could_not_be_read_back(tmp_path):
    net = NetDef()
    inner = net
    for _ in range(40):  # built in place: protobuf checks no depth here
        inner = inner.op.add(type="Do").arg.add(name="net").n
    for name in ("deep.pb", "deep.pbtxt"):
        with pytest.raises(Caffe2LiteError) as info:
            save_proto(net, tmp_path / name)
        assert str(info.value).startswith(
            f"cannot write {tmp_path / name}: caffe2.NetDef.op[0]"
        )
        assert str(info.value).endswith("messages nested 101 deep, " + NESTING)
        assert not (tmp_path / name).exists()


@pytest.mark.parametrize(
    "net, where",
    [
        (field(1, b"n\xff"), "caffe2.NetDef.name: not valid UTF-8 (byte 0xff at 1)"),
        (field(1, b"n") + field(2, field(4, b"Relu")) + field(2, field(1, b"\xc3")),
         "caffe2.NetDef.op[1].input[0]: not valid UTF-8 (byte 0xc3 at 0)"),
        (field(2, field(7, b"\x80")), "caffe2.NetDef.op[0].engine: not valid UTF-8 (byte 0x80 at 0)"),
        (field(2, field(5, field(1, b"\xfe"))),
         "caffe2.NetDef.op[0].arg[0].name: not valid UTF-8 (byte 0xfe at 0)"),
        (field(8, b"ok") + field(8, b"\xe2\x82"),
         "caffe2.NetDef.external_output[1]: not valid UTF-8 (byte 0xe2 at 0)"),
    ],
)  # fmt: skip
def test_text_fields_must_be_utf8(tmp_path, net, where):
    path = tmp_path / "net.pb"
    path.write_bytes(net)
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert str(info.value) == (
        f"cannot parse {path} as caffe2.NetDef: as binary: {where}; "
        "names, types and engines are text"
    )


def test_workspace_calls_given_bytes_apply_the_same_checks():
    from caffe2lite import workspace

    with pytest.raises(ProtoParseError) as info:
        workspace.CreateNet(field(1, b"n\xff"))
    assert str(info.value) == (
        "cannot parse <bytes> as caffe2.NetDef: as binary: caffe2.NetDef.name: not valid "
        "UTF-8 (byte 0xff at 1); names, types and engines are text"
    )


def test_string_arguments_are_bytes_and_round_trip(tmp_path):
    net = NetDef(name="n")
    net.op.add(type="Print").arg.add(
        name="blob", s=b"\xff\x00binary", strings=[b"\x80"]
    )
    path = tmp_path / "net.pb"
    path.write_bytes(net.SerializeToString())
    loaded = load_net(path)
    assert loaded.op[0].arg[0].s == b"\xff\x00binary"
    save_proto(loaded, tmp_path / "net.pbtxt")
    assert load_net(tmp_path / "net.pbtxt") == net


def test_text_files_with_invalid_utf8_in_names_are_refused(tmp_path):
    path = tmp_path / "net.pbtxt"
    path.write_text('name: "\\377"\n')
    with pytest.raises(
        ProtoParseError,
        match="as text: 2:1 : '': Couldn't parse string: 'utf-8' codec can't decode byte 0xff",
    ):
        load_net(path)


def test_files_of_another_message_type(tmp_path):
    tensors = caffe2_pb2.TensorProtos(
        protos=[
            caffe2_pb2.TensorProto(name="t", dims=[2], data_type=1, float_data=[1, 2])
        ]
    )
    path = tmp_path / "tensors.pb"
    path.write_bytes(tensors.SerializeToString())
    for load, name in (
        (load_net, "NetDef"),
        (load_plan, "PlanDef"),
        (load_graph, "NetDef"),
    ):
        with pytest.raises(ProtoParseError) as info:
            load(path)
        assert str(info.value) == (
            f"cannot parse {path} as caffe2.{name}: as binary: not a caffe2.{name}: "
            "the data is a caffe2.TensorProtos"
        )
    plan = PlanDef(
        name="p", execution_step=[caffe2_pb2.ExecutionStep(name="s", network=["n"])]
    )
    path.write_bytes(plan.SerializeToString())
    with pytest.raises(
        ProtoParseError, match="not a caffe2.NetDef: the data is a caffe2.PlanDef$"
    ):
        load_net(path)
    assert load_graph(path) == plan
    # A plan with networks and no steps is not read as a net whose ops are its nets.
    plan = PlanDef(
        name="p",
        network=[NetDef(name="main", op=[caffe2_pb2.OperatorDef(type="Relu")])],
    )
    path.write_bytes(plan.SerializeToString())
    with pytest.raises(
        ProtoParseError, match="not a caffe2.NetDef: the data is a caffe2.PlanDef$"
    ):
        load_graph(path)
    assert load_plan(path) == plan
    # A name with a control character is still a name when nothing else fits.
    odd = NetDef(name="a\x01b", type="dag")
    path.write_bytes(odd.SerializeToString())
    assert load_net(path) == odd


def test_ops_per_net(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_OPS_PER_NET", 3)
    ok = NetDef(op=[caffe2_pb2.OperatorDef(type="Relu")] * 3)
    assert parse_message(ok.SerializeToString(), NetDef) == ok
    big = NetDef(op=[caffe2_pb2.OperatorDef(type="Relu")] * 4)
    message = (
        "4 ops or more, more than the limit of 3 (caffe2lite.io.limits.MAX_OPS_PER_NET)"
    )
    with pytest.raises(ProtoParseError) as info:
        parse_message(big.SerializeToString(), NetDef)
    assert (
        str(info.value)
        == f"cannot parse <bytes> as caffe2.NetDef: as binary: caffe2.NetDef: {message}"
    )
    with pytest.raises(ProtoParseError) as info:
        parse_message(b"op {} op {}\nop: [{}, {}]", NetDef, fmt="text")
    assert (
        str(info.value)
        == f"cannot parse <bytes> as caffe2.NetDef: as text: caffe2.NetDef (line 2): {message}"
    )
    nested = PlanDef(
        network=[
            NetDef(
                op=[caffe2_pb2.OperatorDef(arg=[caffe2_pb2.Argument(name="n", n=big)])]
            )
        ]
    )
    with pytest.raises(
        ProtoParseError,
        match=r"caffe2.PlanDef.network\[0\].op\[0\].arg\[0\].n: 4 ops or more",
    ):
        parse_message(nested.SerializeToString(), PlanDef)
    with pytest.raises(Caffe2LiteError, match="cannot write .*4 ops or more"):
        save_proto(big, tmp_path / "big.pb")


def test_argument_bytes(monkeypatch):
    monkeypatch.setattr(limits, "MAX_ARGUMENT_BYTES", 40)
    net = NetDef()
    net.op.add(type="GivenTensorFill").arg.add(name="values", floats=[1.0] * 10)
    with pytest.raises(ProtoParseError) as info:
        parse_message(net.SerializeToString(), NetDef)
    assert str(info.value) == (
        "cannot parse <bytes> as caffe2.NetDef: as binary: caffe2.NetDef.op[0].arg[0]: "
        "an argument of 58 bytes, more than the limit of 40 "
        "(caffe2lite.io.limits.MAX_ARGUMENT_BYTES)"
    )
    with pytest.raises(
        ProtoParseError,
        match="as text: caffe2.NetDef.op.0..arg.0.: an argument of 58 bytes",
    ):
        parse_message(str(net).encode(), NetDef, fmt="text")


def test_file_size(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 10)
    path = tmp_path / "net.pb"
    path.write_bytes(NetDef(name="0123456789").SerializeToString())
    message = "more than the limit of 10 (caffe2lite.io.limits.MAX_FILE_BYTES)"
    with pytest.raises(ProtoParseError) as info:
        load_net(path)
    assert str(info.value) == f"cannot read {path}: 12 bytes or more, {message}"
    with pytest.raises(ProtoParseError) as info:
        parse_message(path.read_bytes(), NetDef)
    assert (
        str(info.value)
        == f"cannot parse <bytes> as caffe2.NetDef: 12 bytes or more, {message}"
    )


def test_unpacked_runs_are_checked_like_single_fields():
    # Caffe2 wrote repeated numbers unpacked: one tag per value.
    net = NetDef()
    net.op.add(type="GivenTensorFill").arg.add(name="values", floats=[0.5] * 1000)
    data = net.SerializeToString()
    assert parse_message(data, NetDef) == net
    # A truncated run, and an unknown field right after one, are found where they are.
    with pytest.raises(
        ProtoParseError, match="data ends inside the field that starts at byte"
    ):
        parse_message(data[:-2], NetDef, fmt="binary")
    bad = field(2, field(5, bytes.fromhex("1500000000") * 5 + b"\xa8\x01\x01"))
    with pytest.raises(ProtoParseError) as info:
        parse_message(bad, NetDef, fmt="binary")
    assert str(info.value) == (
        "cannot parse <bytes> as caffe2.NetDef: as binary: caffe2.NetDef.op[0].arg[0]: "
        "unknown field number 21 at byte 29"
    )


def test_unpacked_varint_runs():
    net = NetDef()
    values = [*range(-300, 3000), (1 << 63) - 1, -(1 << 63), 0]
    net.op.add(type="GivenTensorInt64Fill").arg.add(name="values", ints=values)
    data = net.SerializeToString()
    assert parse_message(data, NetDef).op[0].arg[0].ints == values
    # 3 ints (field 6), then field 21, which Argument does not have.
    bad = field(2, field(5, b"\x30\x01\x30\xff\x7f\x30\x00" + b"\xa8\x01\x01"))
    with pytest.raises(ProtoParseError) as info:
        parse_message(bad, NetDef, fmt="binary")
    assert str(info.value) == (
        "cannot parse <bytes> as caffe2.NetDef: as binary: caffe2.NetDef.op[0].arg[0]: "
        "unknown field number 21 at byte 11"
    )
    # A varint of 11 bytes inside a run, and a run cut short.
    overlong = field(2, field(5, b"\x30\x01\x30" + b"\xff" * 10 + b"\x01"))
    with pytest.raises(ProtoParseError) as info:
        parse_message(overlong, NetDef, fmt="binary")
    assert str(info.value).endswith(
        "caffe2.NetDef.op[0].arg[0]: a varint longer than 10 bytes in the field "
        "that starts at byte 6"
    )
    with pytest.raises(
        ProtoParseError,
        match="arg.0.: data ends inside the field that starts at byte 6",
    ):
        parse_message(b"\x12\x07\x2a\x05\x30\x01\x30\xff\xff", NetDef, fmt="binary")


def test_a_lowered_nesting_limit_applies_to_both_formats(monkeypatch):
    monkeypatch.setattr(limits, "MAX_NESTING", 5)
    for make in (plan_bytes, lambda n: plan_text(n).encode()):
        assert len(parse_message(make(4), PlanDef).execution_step) == 1
        with pytest.raises(
            ProtoParseError, match="messages nested 6 deep, more than the limit of 5"
        ):
            parse_message(make(5), PlanDef)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_devices_are_not_net_files():
    for device in ("/dev/null", "/dev/zero"):
        with pytest.raises(ProtoParseError) as info:
            load_net(device)
        assert str(info.value) == f"cannot read {device}: a device, not a file"


def test_saved_blobs_and_predictor_bytes_apply_the_same_checks():
    from caffe2lite.io.blobproto import parse_blob_proto
    from caffe2lite.predictor.predictor import _netdef

    with pytest.raises(ProtoParseError) as info:
        parse_blob_proto(field(1, b"w\xff"), "record 0")
    assert str(info.value) == (
        "Couldn't parse Proto: record 0 (not a BlobProto: cannot parse record 0 as "
        "caffe2.BlobProto: as binary: caffe2.BlobProto.name: not valid UTF-8 (byte 0xff "
        "at 1); names, types and engines are text)"
    )
    with pytest.raises(ProtoParseError, match=r"^predict_net: cannot parse bytes as a "
                                              r"NetDef: .*caffe2\.NetDef\.name: not valid"):
        _netdef(field(1, b"n\xff"), "predict_net")


def test_blob_deserialize_applies_the_same_checks():
    from caffe2lite.errors import EnforceError
    from caffe2lite.runtime.blob import deserialize

    with pytest.raises(EnforceError, match=r"^\[enforce fail at blob.py:\d+\] cannot parse a "
                                           r"BlobProto: cannot parse <bytes> "
                                           r"as caffe2\.BlobProto: as binary: caffe2\.BlobProto"
                                           r"\.name: not valid UTF-8"):
        deserialize(field(1, b"w\xff"))


def test_stored_tensors_and_dask_net_bytes_apply_the_same_checks():
    from caffe2lite.distributed.dask_score import _netdef
    from caffe2lite.distributed.mpi_store import decode

    with pytest.raises(ProtoParseError, match=r"^cannot parse a stored tensor as "
                                              r"caffe2\.TensorProto: as binary: "
                                              r"caffe2\.TensorProto\.name: not valid UTF-8"):
        decode(b"T" + field(7, b"t\xff"))
    with pytest.raises(ProtoParseError, match=r"caffe2\.NetDef\.name: not valid UTF-8"):
        _netdef(field(1, b"n\xff"))
