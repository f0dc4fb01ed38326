"""Property tests of the loaders on hostile data: random and mutated bytes and text,
starting from the real net files and the examples. Every outcome is a parsed
message that saves and loads back in both formats, or a ProtoParseError; never
another exception. Cases that could exhaust the stack or memory run in a
subprocess with a time limit and RLIMIT_AS."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from c2l_test_support.realnets import REALNETS
from google.protobuf import text_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caffe2lite.errors import Caffe2LiteError, ProtoParseError
from caffe2lite.io.protoio import parse_message, save_proto
from caffe2lite.proto import caffe2_pb2

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted((ROOT / "examples").rglob("*.pbtxt"))
if REALNETS is not None:
    FILES += sorted(REALNETS.rglob("*.pb*"))[:60]
CLASSES = [caffe2_pb2.NetDef, caffe2_pb2.PlanDef, caffe2_pb2.TensorProtos]
FORMATS = [None, "text", "binary"]


def _seeds() -> list[bytes]:
    seeds = [path.read_bytes() for path in FILES]
    for data in list(seeds):  # the binary form of each net too
        for cls in (caffe2_pb2.PlanDef, caffe2_pb2.NetDef):
            try:
                seeds.append(parse_message(data, cls).SerializeToString())
                break
            except ProtoParseError:
                pass
    return seeds


SEEDS = _seeds()
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def check_outcome(data: bytes, tmp: Path) -> None:
    """Parse ``data`` every way; what loads must save and load back identically."""
    for cls in CLASSES:
        for fmt in FORMATS:
            try:
                msg = parse_message(data, cls, fmt=fmt)
            except ProtoParseError as e:
                assert str(e).startswith("cannot parse <bytes> as ")
                continue
            for name in ("back.pb", "back.pbtxt"):
                save_proto(msg, tmp / name)
                again = parse_message((tmp / name).read_bytes(), cls)
                # Text compares NaN payloads and -0.0 the way the files hold them.
                assert text_format.MessageToString(
                    again
                ) == text_format.MessageToString(msg)


MUTATION = st.tuples(
    st.sampled_from(["set", "delete", "insert", "truncate", "copy"]),
    st.integers(0, 1 << 20),
    st.integers(0, 1 << 20),
    st.binary(min_size=1, max_size=6),
)


def mutate(data: bytes, mutations) -> bytes:
    out = bytearray(data)
    for kind, i, j, extra in mutations:
        if not out:
            out += extra
            continue
        i %= len(out)
        if kind == "set":
            out[i] = extra[0]
        elif kind == "delete":
            del out[i : i + 1 + j % 16]
        elif kind == "insert":
            out[i:i] = extra
        elif kind == "truncate":
            del out[i:]
        else:
            out[i:i] = out[j % len(out) :][: 1 + j % 64]
    return bytes(out)


@FUZZ
@given(
    seed=st.sampled_from(range(len(SEEDS))),
    mutations=st.lists(MUTATION, min_size=1, max_size=4),
)
def test_mutated_real_files(tmp_path_factory, seed, mutations):
    check_outcome(mutate(SEEDS[seed], mutations), tmp_path_factory.mktemp("m"))


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes(tmp_path_factory, data):
    check_outcome(data, tmp_path_factory.mktemp("b"))


TOKENS = ["op", "arg", "n", "nets", "name", ":", "{", "}", "<", ">", "[", "]", ",",
          '"x"', "'y'", '"\\377"', '"\\001"', "s", "strings", "input", "type", "engine",
          "execution_step", "substep", "network", "protos", "dims", "1", "-1", "1e400",
          "nan", "#", "\n", "t", "tensors", "data_type", "FLOAT", "99", "i", "f", "ints",
          "num_iter", "9223372036854775808", "partition_info", "device_id"]  # fmt: skip


@FUZZ
@given(tokens=st.lists(st.sampled_from(TOKENS), max_size=60))
def test_random_text(tmp_path_factory, tokens):
    check_outcome(" ".join(tokens).encode(), tmp_path_factory.mktemp("t"))


@st.composite
def nested(draw):
    """A random chain of message fields from NetDef or PlanDef, as text and binary,
    and its nesting depth."""
    root = draw(st.sampled_from([caffe2_pb2.NetDef, caffe2_pb2.PlanDef]))
    chain, desc = [], root.DESCRIPTOR
    for _ in range(draw(st.integers(1, 130))):
        fields = [f for f in desc.fields if f.message_type is not None]
        # (messages with required fields left out: an empty one would not load)
        fields = [
            f
            for f in fields
            if f.name not in ("partition_info", "segment", "option", "qtensors")
        ]
        if not fields:
            break
        field = draw(st.sampled_from(fields))
        chain.append(field)
        desc = field.message_type
    return root, chain


def _build(root, chain):
    msg = root()
    inner = msg
    for field in chain:
        child = getattr(inner, field.name)
        inner = child.add() if hasattr(child, "add") else child
        inner.SetInParent()
    return msg


@settings(max_examples=30, deadline=None)
@given(case=nested())
def test_any_nesting_path_obeys_the_limit(case):
    root, chain = case
    text = "".join(f"{f.name} {{ " for f in chain) + "} " * len(chain)
    msg = _build(root, chain)
    for data, fmt in (
        (text.encode(), "text"),
        (msg.SerializePartialToString(), "binary"),
    ):
        if len(chain) <= 100:
            assert parse_message(data, root, fmt=fmt) == msg
        else:
            with pytest.raises(ProtoParseError) as info:
                parse_message(data, root, fmt=fmt)
            assert "messages nested 101 deep, more than the limit of 100" in str(
                info.value
            )


CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from caffe2lite.errors import ProtoParseError
from caffe2lite.io import limits
from caffe2lite.io.protoio import load_net, load_plan, save_proto
from caffe2lite.cli.common import load_graph
from caffe2lite.proto import caffe2_pb2

def varint(v):
    out = bytearray()
    while True:
        low, v = v & 0x7F, v >> 7
        out.append(low | (0x80 if v else 0))
        if not v:
            return bytes(out)

def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload

d = sys.argv[1]

def report(load, path):
    try:
        load(path)
        print("loaded")
    except ProtoParseError as e:
        print("ProtoParseError", str(e)[-90:])
"""


def run_child(code: str, folder: Path) -> list[str]:
    """Run ``code`` (with ``d`` the folder) in a fresh interpreter, memory-capped."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD + textwrap.dedent(code), str(folder)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.splitlines()


DEEP = "messages nested 101 deep, more than the limit of 100 (caffe2lite.io.limits.MAX_NESTING)"


def test_very_deep_binary_and_text_files_in_a_subprocess(tmp_path):
    lines = run_child(
        """
        step = field(1, b"leaf")
        for _ in range(2000):  # a binary plan 2,000 deep
            step = field(2, step)
        open(d + "/plan.pb", "wb").write(field(3, step))
        net = b""
        for _ in range(700):  # a binary net 2,100 deep through op -> arg -> n
            net = field(2, field(5, field(9, net)))
        open(d + "/net.pb", "wb").write(net)
        open(d + "/net.pbtxt", "w").write("op { arg { nets { " * 150 + "} } } " * 150)
        open(d + "/plan.pbtxt", "w").write("execution_step { " + "substep { " * 1000 + "}" * 1001)
        open(d + "/args.pbtxt", "w").write("arg < n < " * 400 + "> > " * 400)
        for name, load in (("plan.pb", load_plan), ("plan.pb", load_net), ("plan.pb", load_graph),
                           ("net.pb", load_net), ("net.pb", load_graph), ("net.pbtxt", load_net),
                           ("plan.pbtxt", load_plan), ("plan.pbtxt", load_graph),
                           ("args.pbtxt", load_net)):
            report(load, d + "/" + name)
    """,
        tmp_path,
    )
    assert len(lines) == 9
    for line in lines:
        assert line.startswith("ProtoParseError") and DEEP in line, line


def test_a_raised_nesting_limit_keeps_text_and_binary_agreeing(tmp_path):
    # In a subprocess: raising the limit lifts protobuf's own (process-wide) one.
    lines = run_child(
        """
        limits.MAX_NESTING = 300
        # Comparing 300-deep messages recurses about 4 frames a level in protobuf's
        # pure-Python implementation (protobuf 3.20): room for the == below.
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
        open(d + "/plan.pbtxt", "w").write("execution_step { " + "substep { " * 250 + "}" * 251)
        plan = load_plan(d + "/plan.pbtxt")
        for name in ("again.pb", "again.pbtxt"):
            save_proto(plan, d + "/" + name)
            print(load_plan(d + "/" + name) == plan)
        step = field(1, b"leaf")
        for _ in range(299):  # binary, written by hand: 300 deep
            step = field(2, step)
        open(d + "/hand.pb", "wb").write(field(3, step))
        plan = load_plan(d + "/hand.pb")
        save_proto(plan, d + "/hand.pbtxt")
        print(load_plan(d + "/hand.pbtxt") == plan)
        open(d + "/deeper.pbtxt", "w").write("execution_step { " + "substep { " * 300 + "}" * 301)
        report(load_plan, d + "/deeper.pbtxt")
    """,
        tmp_path,
    )
    assert lines[:3] == ["True", "True", "True"]
    assert lines[3].endswith(
        ": messages nested 301 deep, more than the limit of 300 "
        "(caffe2lite.io.limits.MAX_NESTING)"
    )


def test_huge_nets_are_refused_before_any_heavy_work(tmp_path):
    lines = run_child(
        """
        import time
        op = field(2, field(4, b"NoSuchOp") + field(2, b"y"))
        open(d + "/ops.pb", "wb").write(op * 1_000_000)
        open(d + "/ops.pbtxt", "w").write('op { type: "NoSuchOp" }\\n' * 1_000_000)
        for name in ("ops.pb", "ops.pbtxt"):
            start = time.perf_counter()
            report(load_net, d + "/" + name)
            print(time.perf_counter() - start < 30)  # before: minutes
    """,
        tmp_path,
    )
    message = "100001 ops or more, more than the limit of 100000 (caffe2lite.io.limits.MAX_OPS_PER_NET)"
    assert [line[-len(message) :] if len(line) > 10 else line for line in lines] == [
        message,
        "True",
        message,
        "True",
    ]


def test_errors_are_caffe2lite_errors():
    assert issubclass(ProtoParseError, Caffe2LiteError)


DIM = st.one_of(
    st.integers(-2, 4), st.sampled_from([1 << 31, 1 << 40, (1 << 63) - 1, -(1 << 63)])
)


@st.composite
def tensor_protos(draw):
    TP = caffe2_pb2.TensorProto
    tp = TP(
        dims=draw(st.lists(DIM, max_size=draw(st.sampled_from([4, 70])))),
        data_type=draw(st.sampled_from(list(TP.DataType.values()))),
        data_format=draw(st.sampled_from([0, 0, 1, 7])),
        name=draw(st.sampled_from(["", "w"])),
    )
    values = st.integers(-(1 << 31), (1 << 31) - 1)
    for name, strategy in [
        ("float_data", st.floats(width=32)),
        ("int32_data", values),
        ("int64_data", st.integers(-(1 << 63), (1 << 63) - 1)),
        ("double_data", st.floats()),
        ("string_data", st.binary(max_size=3)),
    ]:
        if draw(st.booleans()):
            getattr(tp, name).extend(draw(st.lists(strategy, max_size=6)))
    for name in ("byte_data", "raw_data"):
        if draw(st.booleans()):
            setattr(tp, name, draw(st.binary(max_size=24)))
    if draw(st.integers(0, 5)) == 0:
        tp.segment.begin, tp.segment.end = draw(st.tuples(DIM, DIM))
    return tp


@settings(max_examples=200, deadline=None)
@given(tp=tensor_protos())
def test_any_tensor_proto_is_an_array_or_a_clear_error(tp):
    from caffe2lite.io.tensor import numpy_to_tensor, tensor_to_numpy

    try:
        arr = tensor_to_numpy(tp)
    except Caffe2LiteError:
        return
    assert arr.shape == tuple(tp.dims) or (tp.data_type == 0 and arr.size == 0)
    if arr.dtype.kind != "O" or all(isinstance(v, bytes) for v in arr.ravel()):
        back = tensor_to_numpy(numpy_to_tensor(arr))
        assert back.shape == arr.shape and back.dtype == arr.dtype
