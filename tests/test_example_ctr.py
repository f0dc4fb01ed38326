"""The click-through-rate example of examples/ctr_model: it learns (loss falls, the
held-out AUC is well above chance) through the Python API and as files run by
``RunPlan`` and by the ``caffe2lite`` command, and its committed files are current."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from caffe2lite import cli, workspace
from caffe2lite.protoio import load_plan

FOLDER = Path(__file__).resolve().parents[1] / "examples" / "ctr_model"


def _load(name: str):
    if str(FOLDER) not in sys.path:
        sys.path.insert(0, str(FOLDER))
    path = FOLDER / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ctr_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train = _load("train")
export_nets = _load("export_nets")


def naive_auc(labels, scores):
    """The probability that a random positive outscores a random negative (ties 1/2)."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    pairs = itertools.product(pos, neg)
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in pairs)
    return wins / (len(pos) * len(neg))


def test_auc_matches_the_pairwise_definition():
    rng = np.random.default_rng(0)
    for _ in range(20):
        labels = rng.integers(0, 2, 40)
        labels[:2] = [0, 1]
        scores = rng.integers(0, 6, 40) / 5.0  # many ties
        want = naive_auc(labels, scores)
        assert train.auc(labels, scores) == pytest.approx(want, abs=1e-12)
    assert train.auc(np.array([0, 1]), np.array([0.2, 0.9])) == 1.0
    with pytest.raises(ValueError):
        train.auc(np.ones(3), np.arange(3))


def test_training_through_the_python_api():
    result = train.train(steps=300, eval_batches=8)
    assert result["first_loss"] > 0.6  # an untrained model: about log(2)
    assert result["last_loss"] < 0.7 * result["first_loss"]
    assert result["eval_loss"] < 0.7 * result["first_loss"]
    assert result["eval_auc"] > 0.75  # chance is 0.5; the teacher's own AUC is about 0.85


def test_main_prints_its_summary(capsys):
    assert train.main(["--steps", "20", "--eval-batches", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("training loss: ") and "last 10 of 20 steps" in lines[0]
    assert lines[1].startswith("eval loss: ") and lines[2].startswith("eval AUC: ")


def test_committed_files_are_current():
    for name, text in export_nets.texts().items():
        assert (FOLDER / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: run python examples/ctr_model/export_nets.py")


def test_export_writes_only_what_changed(tmp_path):
    assert sorted(export_nets.export(tmp_path, steps=5)) == sorted(export_nets.texts(5))
    assert export_nets.export(tmp_path, steps=5) == []


def test_the_plan_trains_via_run_plan():
    plan = load_plan(FOLDER / "plan.pbtxt")
    previous = workspace.CurrentWorkspace()
    workspace.SwitchWorkspace("ctr_plan_test", True)
    try:
        workspace.ResetWorkspace()
        workspace.RunPlan(plan)
        assert workspace.FetchBlob("ITER").tolist() == [export_nets.DEFAULT_STEPS]
        eval_loss = float(workspace.FetchBlob("eval_loss"))
        labels, probs = workspace.FetchBlob("eval_label"), workspace.FetchBlob("eval_prob")
    finally:
        workspace.ResetWorkspace()
        workspace.SwitchWorkspace(previous)
    assert eval_loss < 0.45  # the untrained model's loss is about 0.65
    assert train.auc(labels, probs) > 0.7


def test_the_caffe2lite_command_runs_the_plan(capsys):
    status = cli.main(["run", str(FOLDER / "plan.pbtxt")])
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    assert "eval_loss" in out and "loss" in out
