"""The ``caffe2lite`` command, in process: errors and exit statuses.

Exit status 0 on success, 1 when running fails, 2 on bad usage or an unreadable file;
errors are one ``caffe2lite: error: ...`` message on stderr, with a traceback only
under ``--debug``.
"""

from __future__ import annotations

import re

import numpy as np
from c2l_test_support.cli import SCALE_NET, npy, run


def test_usage_errors_exit_2(scratch_ops, files, capsys, tmp_path):
    f = files(net_pbtxt=SCALE_NET)
    assert run(capsys)[0] == 2
    status, _, err = run(capsys, "run")
    assert status == 2
    assert err.startswith(
        "caffe2lite: error: the following arguments are required: NET\n"
        "usage: caffe2lite run "
    )
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--iters", "0")
    assert (
        status == 2 and "argument --iters: invalid positive integer value: '0'" in err
    )
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--seed", "-1")
    assert status == 2 and "invalid seed (0 to 4294967295) value: '-1'" in err
    assert run(capsys, "frobnicate")[0] == 2
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--input", "X")
    assert (status, err) == (
        2,
        "caffe2lite: error: --input expects NAME=FILE.npy, got 'X'\n",
    )


def test_unreadable_files_exit_2(scratch_ops, files, capsys, tmp_path):
    missing = str(tmp_path / "nope.pbtxt")
    status, _, err = run(capsys, "run", missing)
    assert status == 2
    assert (
        err == f"caffe2lite: error: cannot read {missing}: No such file or directory\n"
    )
    f = files(bad_pbtxt="name: 'x'\nop { kind: 3 }\n", net_pbtxt=SCALE_NET)
    status, _, err = run(capsys, "inspect", f["bad_pbtxt"])
    assert status == 2
    assert err.startswith(
        f"caffe2lite: error: cannot parse {f['bad_pbtxt']} as caffe2.NetDef"
    )
    assert "kind" in err
    status, _, err = run(
        capsys, "run", f["net_pbtxt"], "--input", f"X={tmp_path / 'x.npy'}"
    )
    assert status == 2 and "cannot read" in err and "x.npy" in err
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy")
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={junk}")
    assert status == 2 and err.startswith(
        f"caffe2lite: error: cannot load {junk} as a .npy"
    )


def test_pickled_arrays_are_refused(scratch_ops, files, capsys, tmp_path):
    f = files(net_pbtxt=SCALE_NET)
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={obj}")
    assert status == 2 and "allow_pickle=False" in err
    archive = tmp_path / "obj.npz"
    np.savez(archive, X=np.array([{"a": 1}], dtype=object))
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--inputs", str(archive))
    assert status == 2 and "allow_pickle=False" in err


def test_npy_and_npz_mixed_up(scratch_ops, files, capsys, tmp_path):
    f = files(net_pbtxt=SCALE_NET)
    archive = tmp_path / "in.npz"
    np.savez(archive, X=np.zeros(1))
    x = npy(tmp_path, "x.npy", np.zeros(1))
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={archive}")
    assert status == 2
    assert err == (
        f"caffe2lite: error: --input X={archive} is an .npz archive: "
        "give it with --inputs\n"
    )
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--inputs", x)
    assert status == 2 and "is a single array, not an .npz archive" in err


def test_failure_while_running_exits_1_and_debug_adds_traceback(
    scratch_ops, files, capsys, tmp_path
):
    net = (
        'name: "checked"\nop { input: "X" input: "L" output: "Y" type: "TestCheck" }\n'
        'external_input: "X"\nexternal_input: "L"\n'
    )
    f = files(net_pbtxt=net)
    x = npy(tmp_path, "x.npy", np.zeros(3))
    lengths = npy(tmp_path, "l.npy", np.array([1, 1], dtype=np.int32))
    argv = ["run", f["net_pbtxt"], "--input", f"X={x}", "--input", f"L={lengths}"]
    status, out, err = run(capsys, *argv)
    assert (status, out) == (1, "")
    assert re.fullmatch(
        r"caffe2lite: error: \[enforce fail at conftest\.py:\d+\] op #0 TestCheck in net "
        r"'checked': Inconsistent input data\. \(blob 'Lengths=L': expected 3, found 2\)\n",
        err,
    )
    status, _, err = run(capsys, *argv[:2], "--debug", *argv[2:])
    assert status == 1
    assert err.startswith("Traceback (most recent call last):")
    assert re.search(
        r"caffe2lite: error: \[enforce fail at conftest\.py:\d+\] op #0 TestCheck in net "
        r"'checked': Inconsistent input data\. \(blob 'Lengths=L': expected 3, found 2\)\n\Z",
        err,
    )


def test_net_problems_exit_2_before_anything_runs(scratch_ops, files, capsys, tmp_path):
    net = (
        'name: "bad"\nop { input: "X" output: "Y" type: "TestScal" }\n'
        'op { input: "X" output: "W" type: "TestNoise" arg { name: "ratio" f: 1.5 } }\n'
    )
    f = files(net_pbtxt=net)
    x = npy(tmp_path, "x.npy", np.zeros(1))
    status, _, err = run(capsys, "run", f["net_pbtxt"], "--input", f"X={x}")
    assert status == 2
    lines = err.splitlines()
    assert lines[0] == (
        "caffe2lite: error: net 'bad' cannot run: 2 problems found before anything ran:"
    )
    assert "did you mean 'TestScale'" in lines[1]
    assert lines[2] == (
        "  - op #1 TestNoise in net 'bad': Ratio should be a valid probability "
        "(argument 'ratio': expected 0 <= ratio <= 1, found 1.5)"
    )
    assert len(lines) == 3


def test_inputs_nobody_gave_exit_2(scratch_ops, files, capsys, tmp_path):
    net = (
        'name: "needy"\nop { input: "X" output: "Y" type: "TestVariadic" }\n'
        'op { input: "Y" input: "Z" output: "V" type: "TestVariadic" }\n'
        'external_input: "X"\nexternal_input: "Z"\nexternal_input: "W"\n'
    )
    f = files(net_pbtxt=net)
    z = npy(tmp_path, "z.npy", np.zeros(1))
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--input", f"Z={z}")
    assert (status, out) == (2, "")
    # W is declared but no op reads it: as in Caffe2, it need not exist.
    assert err == (
        "caffe2lite: error: net 'needy' cannot run: 1 problem found before anything "
        "ran:\n"
        "  - op #0 TestVariadic in net 'needy': Encountered a non-existing input blob: "
        "X (blob 'X')\n"
    )


def test_unknown_output_exit_2_with_suggestion_before_the_run(
    scratch_ops, files, capsys, tmp_path
):
    f = files(net_pbtxt=SCALE_NET)
    x = npy(tmp_path, "x.npy", np.zeros(1))
    status, out, err = run(
        capsys, "run", f["net_pbtxt"], "--input", f"X={x}", "--output", "y"
    )
    assert (status, out) == (2, "")
    assert err == (
        "caffe2lite: error: net 'scale' cannot run: 1 problem found before anything "
        "ran:\n"
        "  - --output y: no op of the net makes or reads a blob of that name; did you "
        "mean 'Y'?\n"
    )


def test_help_exits_0(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "Exit status: 0" in out
    status, out, _ = run(capsys, "run", "--help")
    assert status == 0 and "--seed S" in out


def test_internal_errors_are_reported_not_raised(
    scratch_ops, files, capsys, monkeypatch
):
    f = files(net_pbtxt=SCALE_NET)

    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("caffe2lite.cli.inspect.inspect_lines", boom)
    status, _, err = run(capsys, "inspect", f["net_pbtxt"])
    assert status == 1
    assert err == (
        "caffe2lite: error: internal error: ZeroDivisionError: division by zero\n"
        "caffe2lite: run with --debug for a traceback\n"
    )
