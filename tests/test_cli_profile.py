"""Seeing a run: ``--profile`` tables, ``--trace`` Chrome traces, ``--verbose`` op
lines, ``--save-all``, the progress bar (under a pseudo terminal), Ctrl-C, random
inputs; and from Python ``RunNet(profile=, on_op=)``, ``Profiler`` and
``BenchmarkNet``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from c2l_test_support.cli import npy, run

from caffe2lite import core, workspace
from caffe2lite.errors import Caffe2LiteError, EnforceError
from caffe2lite.runtime.net import CompiledNet
from caffe2lite.runtime.profile import Profiler

MLP = """name: "mlp"
op { input: "X" input: "W" input: "b" output: "H" type: "FC" }
op { input: "H" output: "R" type: "Relu" }
op { input: "R" output: "Y" type: "Softmax" }
external_input: "X"
external_input: "W"
external_input: "b"
external_output: "Y"
"""


@pytest.fixture
def mlp(files, tmp_path):
    f = files(net_pbtxt=MLP)
    x = npy(tmp_path, "x.npy", np.arange(8, dtype=np.float32).reshape(2, 4))
    w = npy(tmp_path, "w.npy", np.ones((3, 4), np.float32))
    b = npy(tmp_path, "b.npy", np.zeros(3, np.float32))
    return [f["net_pbtxt"], "--input", f"X={x}", "--input", f"W={w}", "--input", f"b={b}"]


def test_profile_table(mlp, capsys):
    status, out, err = run(capsys, "run", *mlp, "--iters", "4", "--profile")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    head = [line.split() for line in lines].index(
        ["op", "type", "calls", "total", "ms", "mean", "ms", "share", "output", "bytes"])
    assert set(lines[head + 1]) == {"-"}
    rows = [line.split() for line in lines[head + 2:head + 5]]
    assert sorted(r[0] for r in rows) == ["FC", "Relu", "Softmax"]
    assert all(r[1] == "4" for r in rows)
    totals = [float(r[2]) for r in rows]
    assert totals == sorted(totals, reverse=True)  # slowest first
    assert sum(float(r[4].rstrip("%")) for r in rows) == pytest.approx(100, abs=0.2)
    assert {r[0]: r[5] for r in rows} == {"FC": "96", "Relu": "96", "Softmax": "96"}
    assert lines[head + 5].split()[:2] == ["total", "12"]


def test_trace_has_one_event_per_op_run(mlp, capsys, tmp_path):
    trace = tmp_path / "trace.json"
    status, _, _ = run(capsys, "run", *mlp, "--iters", "3", "--trace", str(trace))
    assert status == 0
    doc = json.loads(trace.read_text())
    events = doc["traceEvents"]
    assert len(events) == 3 * 3
    assert [e["name"] for e in events[:3]] == ["FC", "Relu", "Softmax"]
    assert all(e["ph"] == "X" and e["dur"] >= 0 and isinstance(e["pid"], int)
               for e in events)
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
    assert events[0]["args"] == {
        "net": "mlp", "op_index": 0, "op_name": "", "iteration": 0,
        "inputs": {"X": "float32[2, 4]", "W": "float32[3, 4]", "b": "float32[3]"},
        "outputs": {"H": "float32[2, 3]"},
    }
    assert events[-1]["args"]["iteration"] == 2


def test_verbose_prints_each_op_and_save_all_keeps_every_blob(mlp, capsys, tmp_path):
    path = tmp_path / "all.npz"
    status, _, err = run(capsys, "run", *mlp, "--verbose", "--save-all", str(path))
    assert status == 0
    lines = err.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"#0 FC: X float32\[2, 4\], W float32\[3, 4\], b float32\[3\] -> "
                        r"H float32\[2, 3\] \(\d+\.\d{3} ms\)", lines[0])
    assert re.fullmatch(r"#2 Softmax: R float32\[2, 3\] -> Y float32\[2, 3\] "
                        r"\(\d+\.\d{3} ms\)", lines[2])
    with np.load(path) as saved:
        assert sorted(saved.files) == ["H", "R", "W", "X", "Y", "b"]
        np.testing.assert_allclose(saved["Y"], np.full((2, 3), 1 / 3), rtol=1e-6)


def test_random_inputs_from_given_shapes_are_seeded(files, capsys):
    f = files(net_pbtxt=MLP)
    argv = ["run", f["net_pbtxt"], "--random-inputs", "--input-shape", "X=float32[N,4]",
            "--random-init-dim", "5", "--seed", "3"]
    status, out, err = run(capsys, *argv)
    assert (status, err) == (0, "")
    assert out.startswith("Y: float32 shape (5, 5)\n")
    assert run(capsys, *argv)[1] == out
    status, out2, _ = run(capsys, *argv[:-1], "4")
    assert status == 0 and out2 != out


def test_interrupt_keeps_what_ran(mlp, capsys, tmp_path, monkeypatch):
    from caffe2lite.runtime.workspace import Workspace

    calls = []
    real = Workspace.run_net

    def run_net(self, *args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Workspace, "run_net", run_net)
    save = tmp_path / "out.npz"
    status, out, err = run(capsys, "run", *mlp, "--iters", "10", "--save", str(save))
    assert status == 130
    assert err == ("caffe2lite: interrupted after 3 of 10 iterations; showing and "
                   "saving the blobs as they are\n")
    assert out.startswith("Y: float32 shape (2, 3)\n")
    with np.load(save) as saved:
        assert saved.files == ["Y"]


def _cli(argv, **kwargs):
    env = dict(os.environ, COLUMNS="100")
    return subprocess.run([sys.executable, "-m", "caffe2lite", *argv], env=env,
                          timeout=120, **kwargs)


def test_progress_bar_on_a_terminal_only(mlp):
    pytest.importorskip("tqdm")
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = _cli(["run", *mlp, "--iters", "400"], stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    shown = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert proc.stdout.decode().startswith("Y: float32 shape (2, 3)")
    assert "mlp: 100%" in shown and "400/400" in shown
    assert re.search(r"\d+(\.\d+)?(it|iter)/s", shown)  # the rate
    assert re.search(r"<\d\d:\d\d", shown)  # the time left
    quiet = _cli(["run", *mlp, "--iters", "400"], capture_output=True)
    assert (quiet.returncode, quiet.stderr) == (0, b"")


# -- from Python ---------------------------------------------------------------------


@pytest.fixture
def relu_net():
    workspace.ResetWorkspace()
    net = core.Net("seen")
    net.Relu("X", "Y")
    net.Scale("Y", "Z", scale=2.0)
    workspace.FeedBlob("X", np.array([-1.0, 2.0], dtype=np.float32))
    workspace.CreateNet(net)
    yield net.Name()
    workspace.ResetWorkspace()


def test_run_net_profile_prints_the_table(relu_net, capsys):
    assert workspace.RunNet(relu_net, 2, profile=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["op", "type", "calls", "total", "ms", "mean", "ms", "share",
                              "output", "bytes"]
    assert sorted(line.split()[0] for line in out[2:4]) == ["Relu", "Scale"]
    assert out[4].split()[:2] == ["total", "4"]


def test_on_op_sees_every_op_with_its_arrays(relu_net):
    seen = []
    workspace.RunNet(relu_net, 2, on_op=lambda r: seen.append(
        (r.iteration, r.index, r.type, r.input_names, r.output_names,
         [a.tolist() for a in r.outputs])))
    assert seen == [
        (0, 0, "Relu", ("X",), ("Y",), [[0.0, 2.0]]),
        (0, 1, "Scale", ("Y",), ("Z",), [[0.0, 4.0]]),
        (1, 0, "Relu", ("X",), ("Y",), [[0.0, 2.0]]),
        (1, 1, "Scale", ("Y",), ("Z",), [[0.0, 4.0]]),
    ]


def test_profiler_context_sees_every_run(relu_net):
    with Profiler(trace=True) as prof:
        workspace.RunNet(relu_net, 3)
        workspace.RunNetOnce(_once())  # a net run once is seen too
    workspace.RunNet(relu_net)  # outside: not seen
    assert prof.calls == {"Relu": 4, "Scale": 3}
    assert len(prof.events) == 7
    assert prof.output_bytes["Scale"] == 3 * 8


def _once():
    net = core.Net("once")
    net.Relu("X", "W")
    return net


def test_no_hook_keeps_the_tight_loop(relu_net, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("the hooked loop ran")

    monkeypatch.setattr(CompiledNet, "_run_hooked", fail)
    assert workspace.RunNet(relu_net, 5)


def test_a_failing_op_under_hooks_changes_nothing_and_is_located(relu_net):
    workspace.RunNet(relu_net)
    workspace.FeedBlob("X", np.array([1, 2], dtype=np.int64))  # Relu refuses int64
    before = workspace.FetchBlob("Z")
    with pytest.raises(Caffe2LiteError) as e:
        workspace.RunNet(relu_net, on_op=lambda r: None)
    assert f"op #0 Relu in net '{relu_net}': " in str(e.value)
    np.testing.assert_array_equal(workspace.FetchBlob("Z"), before)


def test_benchmark_net(relu_net):
    result = workspace.BenchmarkNet(relu_net, 2, 5, True)
    assert len(result) == 1 + 2 and all(t >= 0 for t in result)
    assert len(workspace.BenchmarkNet(relu_net, 0, 3, False)) == 1
    with pytest.raises(EnforceError, match=r"Number of warm up runs should be non "
                                           r"negative, provided -1\.$"):
        workspace.BenchmarkNet(relu_net, -1, 3, False)
    with pytest.raises(EnforceError, match=r"Number of main runs should be non "
                                           r"negative, provided -2\.$"):
        workspace.BenchmarkNet(relu_net, 0, -2, False)


PLAN = """name: "halving"
network {
  name: "half"
  op { input: "X" output: "X" type: "Scale" arg { name: "scale" f: 0.5 } }
  external_input: "X"
}
execution_step { name: "loop" network: "half" num_iter: 300 }
"""


def _on_a_terminal(argv) -> tuple[subprocess.CompletedProcess, str]:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = _cli(argv, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return proc, b"".join(chunks).decode()


def test_plan_progress_counts_net_runs(files, tmp_path):
    pytest.importorskip("tqdm")
    f = files(plan_pbtxt=PLAN)
    x = npy(tmp_path, "x.npy", np.ones(2, np.float32))
    proc, shown = _on_a_terminal(["run", f["plan_pbtxt"], "--input", f"X={x}"])
    assert proc.returncode == 0
    assert "halving: 100%" in shown and "300/300" in shown and "net run/s" in shown


def test_plan_net_runs():
    from caffe2lite.cli.run import plan_net_runs
    from caffe2lite.proto import caffe2_pb2

    plan = caffe2_pb2.PlanDef(name="p")
    outer = plan.execution_step.add(name="outer", num_iter=3)
    init = outer.substep.add(name="init", network=["a"], only_once=True)
    outer.substep.add(name="body", network=["a", "b"], num_iter=2)
    outer.report_net = "r"
    assert init.only_once
    assert plan_net_runs(plan) == 1 + 3 * 4 + 1
    plan.execution_step.add(name="until", network=["a"], should_stop_blob="stop")
    assert plan_net_runs(plan) is None


def test_random_inputs_says_how_to_give_a_shape_it_cannot_tell(files, capsys):
    f = files(net_pbtxt=MLP)
    status, out, err = run(capsys, "run", f["net_pbtxt"], "--random-inputs")
    assert (status, out) == (2, "")
    assert err.endswith("; give the shape of such an input with --input-shape "
                        "NAME=DTYPE[d0,d1,...] or --value-info FILE.json\n")
    assert "cannot tell the shape of blob 'X'" in err


def test_ctrl_c_on_a_long_run_saves_what_exists(mlp, tmp_path):
    import signal

    save = tmp_path / "out.npz"
    proc = subprocess.Popen([sys.executable, "-m", "caffe2lite", "run", *mlp, "--iters",
                             "100000000", "--verbose", "--save", str(save)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = [proc.stderr.readline() for _ in range(7)]  # two whole iterations ran
    assert lines[0].startswith(b"#0 FC: ") and lines[6].startswith(b"#0 FC: "), lines
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-500:]
    assert re.search(rb"(\A|\n)caffe2lite: interrupted after (?:[2-9]|[1-9]\d+) of 100000000 iterations; "
                     rb"showing and saving the blobs as they are\n\Z", err), err[-500:]
    assert out.startswith(b"Y: float32 shape (2, 3)\n")
    with np.load(save) as saved:
        np.testing.assert_allclose(saved["Y"], np.full((2, 3), 1 / 3), rtol=1e-6)


def test_plans_are_profiled_and_traced(files, capsys, tmp_path):
    f = files(plan_pbtxt=PLAN)
    x = npy(tmp_path, "x.npy", np.ones(2, np.float32))
    trace = tmp_path / "t.json"
    status, out, err = run(capsys, "run", f["plan_pbtxt"], "--input", f"X={x}",
                           "--profile", "--trace", str(trace))
    assert (status, err) == (0, "")
    rows = [line.split() for line in out.splitlines()]
    assert ["Scale", "300"] in [r[:2] for r in rows]
    events = json.loads(trace.read_text())["traceEvents"]
    assert len(events) == 300 and {e["args"]["net"] for e in events} == {"half"}


def test_progress_bar_falls_back_to_nothing(monkeypatch):
    import io

    from caffe2lite.cli.progress import NullBar, progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert isinstance(progress_bar(100, stream=io.StringIO()), NullBar)  # not a terminal
    assert isinstance(progress_bar(1, stream=Terminal()), NullBar)  # one run: no bar
    monkeypatch.setitem(sys.modules, "tqdm", None)  # tqdm not installed
    stream = Terminal()
    bar = progress_bar(100, stream=stream)
    assert isinstance(bar, NullBar)
    bar.update()
    bar.close()
    assert stream.getvalue() == ""
