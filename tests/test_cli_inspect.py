"""The ``caffe2lite`` command, in process: inspect, ops and convert.

These tests use the test-only operators of the ``scratch_ops`` fixture, so they do not
depend on the operator library.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from c2l_test_support.cli import PLAN, run

from caffe2lite.schema import registry
from caffe2lite.protoio import load_net, load_plan

# -- inspect ------------------------------------------------------------------------

INSPECTED = """name: "demo"
type: "dag"
op {
  input: "X" input: "L" output: "Y" output: "LO" name: "drop"
  type: "TestNoise" engine: "FAST"
  device_option { random_seed: 3 }
  arg { name: "ratio" f: 0.25 }
  arg { name: "values" ints: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }
  arg { name: "mode" s: "fast" }
}
op { input: "Y" output: "Z" type: "TestVariadik" }
op { input: "Z" output: "W" type: "Qwxzq" }
external_input: "X"
external_input: "L"
external_output: "W"
"""


def test_inspect_net(scratch_ops, files, capsys):
    f = files(net_pbtxt=INSPECTED)
    status, out, err = run(capsys, "inspect", f["net_pbtxt"])
    assert (status, err) == (0, "")
    assert (
        out
        == """net: demo
type: dag
external inputs (2): X, L
external outputs (1): W
ops (3):
  #0 TestNoise 'drop': X, L -> Y, LO
      engine FAST, random_seed 3
      ratio = 0.25
      values = [1, 2, 3, 4, 5, 6, 7, 8, ...] (10 values)
      mode = 'fast'
  #1 TestVariadik: Y -> Z
  #2 Qwxzq: Z -> W

op types not registered (2):
  TestVariadik: did you mean 'TestVariadic'?
  Qwxzq
"""
    )


def test_inspect_plan_and_all_registered(scratch_ops, files, capsys):
    plan = PLAN.replace(
        "num_iter: 4", "num_iter: 4 substep { name: 'inner' only_once: true }"
    )
    f = files(plan_pbtxt=plan)
    status, out, _ = run(capsys, "inspect", f["plan_pbtxt"])
    assert status == 0
    assert (
        out
        == """plan: doubling_plan
networks (1):

net: double
type: simple (default)
external inputs (1): X
external outputs (0): -
ops (1):
  #0 TestScale: X -> X
      scale = 2.0

execution steps (1):
  step 'loop' (num_iter 4)
    networks: double
    step 'inner' (only_once)

all 1 op types are registered
"""
    )


def _realnets() -> list[Path]:
    root = Path(
        os.environ.get(
            "CAFFE2LITE_REALNETS",
            Path(__file__).resolve().parents[2] / "shared" / "realnets",
        )
    )
    return (
        sorted(p for p in root.rglob("*") if p.suffix in (".pb", ".pbtxt"))
        if root.is_dir()
        else []
    )


@pytest.mark.skipif(
    not _realnets(), reason="the real nets of ../shared/realnets are not here"
)
def test_inspect_reads_every_real_net(capsys):
    for path in _realnets():
        status, out, err = run(capsys, "inspect", str(path))
        assert (status, err) == (0, ""), path
        assert out.startswith(("net: ", "plan: ")), path
    binary = [p for p in _realnets() if p.suffix == ".pb"]
    for path in binary:
        out = run(capsys, "inspect", str(path))[1]
        assert "net: torch-jit-export_predict" in out and "#0 Conv: 1, 2 -> 11" in out


# -- ops ----------------------------------------------------------------------------


def test_ops_list_and_one_op(scratch_ops, capsys):
    status, out, _ = run(capsys, "ops")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == len(registry.OPERATORS)
    row = next(line for line in lines if line.startswith("TestVariadic "))
    assert row.split(None, 1)[1] == "X, ... -> Y"
    status, out, _ = run(capsys, "ops", "TestScale")
    assert status == 0
    assert (
        out
        == """TestScale
inputs (1):
  0 X
outputs (1):
  0 Y
arguments:
  scale (float, default 1.0)
  offset (int, default 0)
in-place:
  allowed: input 0 (X) as output 0 (Y)
random: no
gradient: none (gradients stop here)
doc:
  Y = X * scale + offset. Example: X=[1, 2] -> Y=[2, 4]
"""
    )
    out = run(capsys, "ops", "TestNoise")[1]
    assert "  ratio (float, default 0.5; must be 0 <= ratio <= 1)\n" in out
    assert "random: yes, seeded by device_option.random_seed\n" in out


def test_ops_unknown_type_and_markdown(scratch_ops, capsys):
    status, _, err = run(capsys, "ops", "TestVariadik")
    assert (status, err) == (
        2,
        (
            "caffe2lite: error: no operator of type 'TestVariadik' is "
            "registered; did you mean 'TestVariadic'?\n"
        ),
    )
    status, out, _ = run(capsys, "ops", "--markdown")
    assert status == 0
    row = (
        "| `TestScale` | X -> Y | `scale` = 1.0, `offset` = 0 | none "
        "| Y = X * scale + offset. |"
    )
    assert row in out
    assert run(capsys, "ops", "TestScale", "--markdown")[0] == 2


# -- convert ------------------------------------------------------------------------


def test_convert_round_trip(scratch_ops, files, capsys, tmp_path):
    f = files(net_pbtxt=INSPECTED, plan_pbtxt=PLAN)
    binary, back = tmp_path / "net.pb", tmp_path / "back.pbtxt"
    status, out, _ = run(capsys, "convert", f["net_pbtxt"], str(binary))
    assert (status, out) == (0, f"wrote NetDef 'demo' to {binary}\n")
    assert binary.read_bytes() == load_net(f["net_pbtxt"]).SerializeToString()
    assert run(capsys, "convert", str(binary), str(back))[0] == 0
    assert load_net(back) == load_net(f["net_pbtxt"])
    plan_bin = tmp_path / "plan.pb"
    status, out, _ = run(capsys, "convert", f["plan_pbtxt"], str(plan_bin))
    assert (status, out) == (0, f"wrote PlanDef 'doubling_plan' to {plan_bin}\n")
    assert load_plan(plan_bin) == load_plan(f["plan_pbtxt"])
    status, _, err = run(capsys, "convert", str(tmp_path / "none.pb"), str(back))
    assert status == 2 and "cannot read" in err


def test_python_m_caffe2lite_usage_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "caffe2lite", "ops", "NoSuchOp"],
        capture_output=True,
        check=False,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("caffe2lite: error: no operator of type 'NoSuchOp'")
