"""caffe2_pb2.py and .pyi are protoc's output for proto/caffe2.proto, never edited."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from caffe2lite.proto import caffe2_pb2

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "caffe2lite" / "proto"

_spec = importlib.util.spec_from_file_location(
    "generate_proto", ROOT / "scripts" / "generate_proto.py"
)
assert _spec is not None and _spec.loader is not None
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)

PINNED = generate.pinned_version()
INSTALLED = generate.installed_version()
needs_pinned_protoc = pytest.mark.skipif(
    INSTALLED != PINNED,
    reason=f"needs grpcio-tools=={PINNED} (requirements-dev.txt); "
    f"found {INSTALLED or 'none'}",
)
needs_protoc = pytest.mark.skipif(
    INSTALLED is None, reason="grpcio-tools is not installed"
)


def _committed(name: str) -> str:
    return (COMMITTED / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["caffe2_pb2.py", "caffe2_pb2.pyi"])
def test_header_names_the_current_proto(name):
    # Runs without protoc: a change to caffe2.proto without regenerating fails here.
    lines = _committed(name).splitlines()
    assert f"proto/caffe2.proto sha256 {generate.proto_digest()}" in "\n".join(
        lines[:5]
    )
    assert f"# grpcio-tools=={PINNED} via scripts/generate_proto.py;" in "\n".join(
        lines[:5]
    )


@needs_pinned_protoc
def test_committed_files_are_what_the_script_writes():
    files = generate.render()
    assert sorted(files) == ["caffe2_pb2.py", "caffe2_pb2.pyi"]
    for name, text in files.items():
        assert text == _committed(name), (
            f"{name} is stale: run scripts/generate_proto.py"
        )


@needs_pinned_protoc
def test_check_mode_reports_drift(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generate, "OUT_DIR", tmp_path)
    assert generate.main([]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "wrote caffe2lite/proto/caffe2_pb2.py",
        "wrote caffe2lite/proto/caffe2_pb2.pyi",
    ]
    assert generate.main(["--check"]) == 0
    stub = tmp_path / "caffe2_pb2.pyi"
    stub.write_text(stub.read_text() + "# edited by hand\n")
    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (
        "caffe2lite/proto/caffe2_pb2.pyi is stale (1 line(s) differ from what "
        "scripts/generate_proto.py writes); run `python scripts/generate_proto.py`"
    )
    assert err[-1] == "-# edited by hand"


@needs_pinned_protoc
def test_the_old_command_still_works():
    done = subprocess.run(
        [sys.executable, str(ROOT / "proto" / "generate.py"), "--check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.splitlines()) == (0, [
        "caffe2lite/proto/caffe2_pb2.py is up to date",
        "caffe2lite/proto/caffe2_pb2.pyi is up to date",
    ])  # fmt: skip


def test_another_grpcio_tools_is_refused(monkeypatch):
    monkeypatch.setattr(generate, "installed_version", lambda: "0.1")
    with pytest.raises(generate.GenerateError) as info:
        generate.render()
    assert str(info.value) == (
        f"needs grpcio-tools=={PINNED} (requirements-dev.txt), found grpcio-tools "
        "0.1: pip install -r requirements-dev.txt"
    )


def _drop_json_names(message) -> None:
    if isinstance(message, descriptor_pb2.FileDescriptorProto):
        nested = message.message_type
    else:
        nested = message.nested_type
        for field in message.field:
            field.ClearField("json_name")
    for inner in nested:
        _drop_json_names(inner)


@needs_protoc
def test_descriptor_is_protocs_reading_of_caffe2_proto(tmp_path):
    # Any protoc will do here: the descriptor must be the .proto file's, whatever
    # code a newer protoc would write around it.
    out = tmp_path / "caffe2.desc"
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT / 'proto'}"]
    command += [f"--descriptor_set_out={out}", str(ROOT / "proto" / "caffe2.proto")]
    subprocess.run(command, check=True, capture_output=True)
    (expected,) = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file
    _drop_json_names(expected)  # a descriptor set has them, generated code never
    found = descriptor_pb2.FileDescriptorProto.FromString(
        caffe2_pb2.DESCRIPTOR.serialized_pb
    )
    assert found == expected


def _names(proto, prefix=""):
    for enum in proto.enum_type:
        yield prefix + enum.name
    for message in getattr(proto, "message_type", None) or proto.nested_type:
        yield prefix + message.name
        yield from _names(message, prefix + message.name + ".")


def _stub_classes(node, prefix=""):
    for child in node.body:
        if isinstance(child, ast.ClassDef):
            yield prefix + child.name
            yield from _stub_classes(child, prefix + child.name + ".")


def test_stub_declares_every_message_and_enum():
    fdp = descriptor_pb2.FileDescriptorProto.FromString(
        caffe2_pb2.DESCRIPTOR.serialized_pb
    )
    stub = ast.parse(_committed("caffe2_pb2.pyi"))
    assert sorted(_stub_classes(stub)) == sorted(_names(fdp))


def test_module_is_registered_under_the_package():
    assert caffe2_pb2.__name__ == "caffe2lite.proto.caffe2_pb2"
    assert caffe2_pb2.NetDef.__module__ == "caffe2lite.proto.caffe2_pb2"
    assert caffe2_pb2.DESCRIPTOR.name == "caffe2.proto"


def test_stub_declares_the_device_aliases_the_package_sets():
    stub = ast.parse(_committed("caffe2_pb2.pyi"))
    declared = {
        node.target.id
        for node in stub.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    for name in generate.DEVICE_ALIASES:
        assert name in declared
        assert getattr(caffe2_pb2, name) == getattr(caffe2_pb2, "PROTO_" + name)
    aliases = {n for n in vars(caffe2_pb2) if hasattr(caffe2_pb2, "PROTO_" + n)}
    assert aliases == set(generate.DEVICE_ALIASES)
