"""Regenerate caffe2lite/proto/caffe2_pb2.py and .pyi from proto/caffe2.proto with protoc.

    python scripts/generate_proto.py           # write both files
    python scripts/generate_proto.py --check   # exit 1, with a diff, if either is stale

It runs the protocol buffer compiler bundled with grpcio-tools
(``python -m grpc_tools.protoc --python_out --pyi_out``), at the version pinned in
requirements-dev.txt: another protoc writes other code (protoc 26 and later write
code that refuses the older protobuf runtimes caffe2lite supports), so any other
version is refused. Two edits follow, both made here and nowhere else:

- the module is registered as ``caffe2lite.proto.caffe2_pb2`` (protoc names it after
  the .proto file, ``caffe2_pb2``, which pickle could not find again), while the
  descriptor keeps the file name ``caffe2.proto``;
- a header line names the pinned grpcio-tools, this script and the SHA-256 of
  proto/caffe2.proto, so a test can tell a stale module without protoc;
- the stub ends with the short device names (``CPU``, ``CUDA`` ...) that
  caffe2lite/proto/__init__.py sets on the module at import, as Caffe2 did.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto" / "caffe2.proto"
OUT_DIR = ROOT / "caffe2lite" / "proto"
REQUIREMENTS = ROOT / "requirements-dev.txt"
MODULE_NAME = "caffe2lite.proto.caffe2_pb2"
STEM = "caffe2_pb2"
# Set on the module by caffe2lite/proto/__init__.py: NAME = PROTO_NAME.
DEVICE_ALIASES = ("CPU", "CUDA", "MKLDNN", "OPENGL", "OPENCL", "IDEEP", "HIP",
                  "COMPILE_TIME_MAX_DEVICE_TYPES")  # fmt: skip


class GenerateError(RuntimeError):
    """protoc is missing, of another version, or failed."""


def pinned_version() -> str:
    """The grpcio-tools version pinned (``==``) in requirements-dev.txt."""
    text = REQUIREMENTS.read_text(encoding="utf-8")
    found = re.search(r"^grpcio-tools==([\w.]+)\s*$", text, re.MULTILINE)
    if found is None:
        raise GenerateError("requirements-dev.txt does not pin grpcio-tools==<version>")
    return found.group(1)


def installed_version() -> str | None:
    """The installed grpcio-tools version, or None."""
    try:
        return metadata.version("grpcio-tools")
    except metadata.PackageNotFoundError:
        return None


def check_protoc() -> str:
    """The pinned version, after checking that it is the one installed."""
    want, have = pinned_version(), installed_version()
    if have != want:
        found = f"grpcio-tools {have}" if have else "no grpcio-tools"
        raise GenerateError(
            f"needs grpcio-tools=={want} (requirements-dev.txt), found {found}: "
            "pip install -r requirements-dev.txt"
        )
    return want


def proto_digest() -> str:
    """SHA-256 of proto/caffe2.proto's bytes."""
    return hashlib.sha256(PROTO.read_bytes()).hexdigest()


def header(version: str) -> str:
    """The line added under protoc's first header lines."""
    return (
        f"# grpcio-tools=={version} via scripts/generate_proto.py; "
        f"proto/caffe2.proto sha256 {proto_digest()}\n"
    )


def run_protoc(out_dir: Path, *extra: str) -> None:
    """Compile proto/caffe2.proto into ``out_dir`` with the installed grpcio-tools."""
    command = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO.parent}"]
    command += [*extra, str(PROTO)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GenerateError(f"protoc failed ({done.returncode}): {done.stderr.strip()}")


def _add_header(text: str, line: str, after: str) -> str:
    head, sep, tail = text.partition(after)
    if not sep:
        raise GenerateError(f"protoc's output has no line {after.strip()!r}")
    return head + sep + line + tail


def render() -> dict[str, str]:
    """{file name: text} of the two generated files, as they are committed."""
    version = check_protoc()
    with tempfile.TemporaryDirectory() as tmp:
        run_protoc(Path(tmp), f"--python_out={tmp}", f"--pyi_out={tmp}")
        module = (Path(tmp) / f"{STEM}.py").read_text(encoding="utf-8")
        stub = (Path(tmp) / f"{STEM}.pyi").read_text(encoding="utf-8")
    call = f"BuildTopDescriptorsAndMessages(DESCRIPTOR, '{STEM}', _globals)"
    if module.count(call) != 1:
        raise GenerateError(f"protoc's module does not call {call} exactly once")
    module = module.replace(call, call.replace(f"'{STEM}'", f"'{MODULE_NAME}'"))
    line = header(version)
    module = _add_header(module, line, "DO NOT EDIT!\n")
    stub = (
        line
        + stub
        + "\n# Set by caffe2lite/proto/__init__.py (Caffe2's short device names).\n"
    )
    stub += "".join(f"{name}: DeviceTypeProto\n" for name in DEVICE_ALIASES)
    return {f"{STEM}.py": module, f"{STEM}.pyi": stub}


def stale(name: str, old: str, new: str) -> list[str]:
    """A short report of how the committed ``name`` differs from ``new``."""
    target = f"caffe2lite/proto/{name}"
    diff = difflib.unified_diff(
        old.splitlines(), new.splitlines(), f"{target} (committed)",
        f"{target} (from proto/caffe2.proto)", lineterm="",
    )  # fmt: skip
    lines = [line[:120] for line in diff]
    changed = sum(1 for line in lines[2:] if line[:1] in "+-")
    first = (
        f"{target} is stale ({changed} line(s) differ from what "
        "scripts/generate_proto.py writes); run `python scripts/generate_proto.py`"
    )
    return [first, *lines[:30]]


def main(argv: list[str] | None = None) -> int:
    """Write the files; with --check, exit 1 and print a diff when one is stale."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare, write nothing"
    )
    check = parser.parse_args(argv).check
    try:
        files = render()
    except GenerateError as e:
        print(f"generate_proto: {e}", file=sys.stderr)
        return 2
    status = 0
    for name, text in files.items():
        path = OUT_DIR / name
        if not check:
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote caffe2lite/proto/{name}")
            continue
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old == text:
            print(f"caffe2lite/proto/{name} is up to date")
        else:
            print("\n".join(stale(name, old, text)), file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
