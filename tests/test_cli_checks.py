"""Everything found before anything runs: ``caffe2lite run`` and ``inspect --check``
report unknown and unimplemented op types, schema problems, missing inputs (with the
shape their op expects), unread inputs, unknown outputs and unwritable files
together, grouped when there are many; Python's CreateNet the same way."""

from __future__ import annotations

import numpy as np
import pytest
from c2l_test_support.cli import npy, run

from caffe2lite import workspace
from caffe2lite.errors import NetCompileError, UnknownOperatorError
from caffe2lite.io.protoio import load_net
from caffe2lite.proto import caffe2_pb2

BIG = """name: "big"
op { input: "data" input: "w" input: "b" output: "c" type: "Conv" arg { name: "kernel" i: 3 } }
op { input: "c" input: "s" input: "bb" input: "m" input: "v" output: "bn" type: "SpatialBN"
     arg { name: "is_test" i: 1 } }
op { input: "bn" output: "x1" type: "CTCGreedyDecoder" }
op { input: "x1" output: "x2" type: "CTCGreedyDecoder" }
op { input: "x2" output: "x3" type: "CTCGreedyDecoder" }
op { input: "x3" output: "x4" type: "Percentile" }
op { input: "x4" output: "x5" type: "Reluu" }
op { input: "x5" output: "x6" type: "Reluu" }
op { input: "x6" output: "x7" type: "Relu" arg { name: "scael" f: 2 } }
external_output: "x7"
"""

# An init net that would fail if it ran (Sum of a [2] and a [3] tensor): problems
# of the main net are reported first, so it must not run.
FAILING_INIT = """name: "init"
op { output: "A" type: "ConstantFill" arg { name: "shape" ints: 2 } }
op { output: "B" type: "ConstantFill" arg { name: "shape" ints: 3 } }
op { input: "A" input: "B" output: "C" type: "Sum" }
"""

FC = """name: "fcnet"
op { input: "X" input: "W" input: "b" output: "H" type: "FC" }
op { input: "H" input: "s" input: "bb" input: "m" input: "v" output: "Y" type: "SpatialBN"
     arg { name: "is_test" i: 1 } }
external_output: "Y"
"""


@pytest.fixture
def data(tmp_path):
    return npy(tmp_path, "data.npy", np.zeros((1, 3, 8, 8), np.float32))


def test_many_problems_are_grouped_unknown_ops_first(files, capsys, data, tmp_path):
    f = files(net_pbtxt=BIG, init_pbtxt=FAILING_INIT)
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--init", f["init_pbtxt"],
                           "--input", f"data={data}")
    assert (status, out) == (2, "")
    assert err == (
        "caffe2lite: warning: op #8 Relu in net 'big': argument 'scael' is not declared "
        "by Relu; it declares no arguments\n"
        "caffe2lite: error: net 'big' cannot run: 12 problems found before anything ran:\n"
        "  - Caffe2 operators not implemented in caffe2lite (4): CTCGreedyDecoder (x3), "
        "Percentile\n"
        "  - unknown operator types (2): Reluu (did you mean 'Relu' or 'ReluN' or "
        "'PRelu'?) (x2)\n"
        "  - missing inputs (6): w (input filter of op #0 Conv, float32[?, 3, 3, 3]), "
        "b (input bias of op #0 Conv, float32[?]), s (input scale of op #1 SpatialBN, "
        "float32[M]), bb (input bias of op #1 SpatialBN, float32[M]), m (input mean of "
        "op #1 SpatialBN, float32[M]), ... and 1 more\n"
        "  (run with --verbose to list every problem)\n"
    )


def test_verbose_lists_every_problem(files, capsys, data):
    f = files(net_pbtxt=BIG)
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--input", f"data={data}",
                         "--verbose")
    lines = err.splitlines()
    assert status == 2
    assert lines[1] == ("caffe2lite: error: net 'big' cannot run: 12 problems found "
                        "before anything ran:")
    assert lines[2] == (
        "  - op #2 CTCGreedyDecoder in net 'big': Caffe2 operator CTCGreedyDecoder is "
        "not implemented in caffe2lite (expected an operator caffe2lite implements, "
        "found 'CTCGreedyDecoder')")
    assert lines[6] == (
        "  - op #6 Reluu in net 'big': Cannot create operator of type 'Reluu' on the "
        "device 'CPU': no operator of that type is registered; did you mean 'Relu' or "
        "'ReluN' or 'PRelu'? (expected a registered operator type, found 'Reluu')")
    assert lines[8] == ("  - op #0 Conv in net 'big': Encountered a non-existing input "
                        "blob: w (expected float32[?, 3, 3, 3]) (blob 'w')")
    assert len(lines) == 2 + 12


def test_missing_inputs_name_the_shape_their_op_expects(files, capsys, tmp_path):
    f = files(net_pbtxt=FC)
    x = npy(tmp_path, "x.npy", np.zeros((2, 4), np.float32))
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={x}")
    assert (status, out) == (2, "")
    assert err == (
        "caffe2lite: error: net 'fcnet' cannot run: 6 problems found before anything ran:\n"
        "  - op #0 FC in net 'fcnet': Encountered a non-existing input blob: W "
        "(expected float32[?, 4]) (blob 'W')\n"
        "  - op #0 FC in net 'fcnet': Encountered a non-existing input blob: b "
        "(expected float32[?]) (blob 'b')\n"
        "  - op #1 SpatialBN in net 'fcnet': Encountered a non-existing input blob: s "
        "(expected float32[?]) (blob 's')\n"
        "  - op #1 SpatialBN in net 'fcnet': Encountered a non-existing input blob: bb "
        "(expected float32[?]) (blob 'bb')\n"
        "  - op #1 SpatialBN in net 'fcnet': Encountered a non-existing input blob: m "
        "(expected float32[?]) (blob 'm')\n"
        "  - op #1 SpatialBN in net 'fcnet': Encountered a non-existing input blob: v "
        "(expected float32[?]) (blob 'v')\n"
    )


NET = """name: "scale"
op { input: "X" output: "Y" type: "Scale" arg { name: "scale" f: 2.0 } }
external_input: "X"
external_output: "Y"
"""


def test_command_line_problems_found_before_the_run(files, capsys, tmp_path):
    f = files(net_pbtxt=NET)
    x = npy(tmp_path, "x.npy", np.ones(1, np.float32))
    junk = npy(tmp_path, "junk.npy", np.ones(1, np.float32))
    (tmp_path / "afolder").mkdir()
    status, out, err = run(
        capsys, "run", f["net_pbtxt"], "--input", f"X={x}", "--input", f"Xs={junk}",
        "--output", "Z", "--save", str(tmp_path / "nowhere" / "o.npz"),
        "--save-all", str(tmp_path / "afolder"), "--trace", str(tmp_path / "no" / "t.json"))
    assert (status, out) == (2, "")
    assert err == (
        "caffe2lite: error: net 'scale' cannot run: 5 problems found before anything ran:\n"
        "  - --input Xs: no op of the net reads it\n"
        "  - --output Z: no op of the net makes or reads a blob of that name\n"
        f"  - --save {tmp_path}/nowhere/o.npz: the folder {tmp_path}/nowhere does not "
        "exist\n"
        f"  - --save-all {tmp_path}/afolder is a folder, not a file\n"
        f"  - --trace {tmp_path}/no/t.json: the folder {tmp_path}/no does not exist\n"
    )


def test_inspect_check(files, capsys):
    f = files(net_pbtxt=NET, fc_pbtxt=FC)
    status, out, err = run(capsys, "inspect", f["net_pbtxt"], "--check")
    assert (status, out, err) == (
        0, "net 'scale': no problems found (1 ops of 1 types, every input given or "
        "made)\n", "")
    status, out, err = run(capsys, "inspect", f["fc_pbtxt"], "--check",
                           "--input-shape", "X=float32[2,4]")
    assert (status, out) == (2, "")
    assert err.splitlines()[:2] == [
        "caffe2lite: error: net 'fcnet' cannot run: 6 problems found before anything ran:",
        "  - op #0 FC in net 'fcnet': Encountered a non-existing input blob: W (blob 'W')",
    ]


def test_create_net_reports_caffe2_operators_caffe2lite_lacks():
    workspace.ResetWorkspace()
    net = caffe2_pb2.NetDef(name="lacking")
    net.op.add(type="CTCGreedyDecoder", input=["a"], output=["b"])
    workspace.FeedBlob("a", np.zeros(1, np.float32))
    with pytest.raises(UnknownOperatorError) as e:
        workspace.CreateNet(net)
    assert str(e.value) == (
        "op #0 CTCGreedyDecoder in net 'lacking': Caffe2 operator CTCGreedyDecoder is "
        "not implemented in caffe2lite (expected an operator caffe2lite implements, "
        "found 'CTCGreedyDecoder')")


def test_create_net_groups_many_problems(tmp_path):
    workspace.ResetWorkspace()
    path = tmp_path / "big.pbtxt"
    path.write_text(BIG)
    with pytest.warns(UserWarning):
        with pytest.raises(NetCompileError) as e:
            workspace.CreateNet(load_net(path))
    assert str(e.value) == (
        "net 'big' has 13 problems:\n"
        "  - Caffe2 operators not implemented in caffe2lite (4): CTCGreedyDecoder (x3), "
        "Percentile\n"
        "  - unknown operator types (2): Reluu (did you mean 'Relu' or 'ReluN' or "
        "'PRelu'?) (x2)\n"
        "  - missing inputs (7): data, w, b, s, bb, ... and 2 more"
    )
    assert len(e.value.problems) == 13
    assert e.value.full().count("\n") == 13


def test_inspect_check_verbose_lists_every_problem(files, capsys):
    f = files(net_pbtxt=BIG)
    status, _, err = run(capsys, "inspect", f["net_pbtxt"], "--check")
    assert status == 2
    assert err.splitlines()[-1] == "  (run with --verbose to list every problem)"
    status, _, err = run(capsys, "inspect", f["net_pbtxt"], "--check", "--verbose")
    assert status == 2
    # the warning, the head, every problem (data is missing too: nothing gives it)
    assert len(err.splitlines()) == 2 + 13


PLAN = """name: "p"
network {
  name: "n1"
  op { input: "X" output: "Y" type: "Scale" arg { name: "sclae" f: 2 } }
  op { input: "Y" output: "Z" type: "CTCGreedyDecoder" }
}
execution_step { name: "s" network: "n1" num_iter: 3 }
"""


def test_plans_are_checked_before_they_run(files, capsys):
    f = files(plan_pbtxt=PLAN)
    status, out, err = run(capsys, "run", f["plan_pbtxt"])
    assert (status, out) == (2, "")
    assert err == (
        "caffe2lite: warning: op #0 Scale in net 'n1': argument 'sclae' is not declared "
        "by Scale; did you mean 'scale'?\n"
        "caffe2lite: error: plan 'p' cannot run: 2 problems found before anything ran:\n"
        "  - op #1 CTCGreedyDecoder in net 'n1': Caffe2 operator CTCGreedyDecoder is not "
        "implemented in caffe2lite (expected an operator caffe2lite implements, found "
        "'CTCGreedyDecoder')\n"
        "  - op #0 Scale in net 'n1': Encountered a non-existing input blob: X (blob 'X')\n"
    )


def test_an_input_shape_no_op_reads_is_refused(files, capsys):
    f = files(net_pbtxt=NET)
    for command in (["run", f["net_pbtxt"], "--random-inputs"],
                    ["inspect", f["net_pbtxt"], "--check"]):
        status, out, err = run(capsys, *command, "--input-shape", "X=float32[2]",
                               "--input-shape", "Q=int64[N]")
        assert (status, out) == (2, "")
        assert err == (
            "caffe2lite: error: net 'scale' cannot run: 1 problem found before anything "
            "ran:\n  - --input-shape Q: no op of the net reads it\n")
