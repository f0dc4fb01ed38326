"""README.md stays true: its set-up commands (and .ci/run's copy of them), its
operator table, its Python quick start and its example output."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from caffe2lite import cli
from caffe2lite.cli.ops import ops_markdown

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP = [
    (
        "pip install . && caffe2lite run examples/sparse_features/predict_net.pbtxt "
        "--init examples/sparse_features/init_net.pbtxt"
    ),
    'pip install -e ".[test]" && pytest',
]


def _blocks(language: str) -> list[str]:
    return re.findall(
        rf"^```{language}\n(.*?)^```", README, flags=re.DOTALL | re.MULTILINE
    )


def test_readme_starts_with_the_two_setup_commands():
    assert README.startswith("# caffe2lite\n\n```sh\n" + "\n".join(SETUP) + "\n```\n")


def test_ci_runs_the_readme_commands():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in script
    extract = re.search(r"mapfile -t commands < <\((.*)\)\n", script).group(1)
    proc = subprocess.run(
        ["bash", "-c", extract], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert proc.stdout.splitlines() == SETUP
    assert 'bash -euo pipefail -c "$command"' in script
    assert '"numpy==1.23.5" "protobuf==3.20.3"' in script


def test_operator_table_is_current():
    # A fresh process, so only the operators of the package are registered.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_readme.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_ops_markdown_is_the_table_generator(capsys):
    assert cli.main(["ops", "--markdown"]) == 0
    assert capsys.readouterr().out == ops_markdown()


def test_python_quick_start_prints_what_it_says(tmp_path):
    (code,) = [b for b in _blocks("python")
               if "from caffe2lite import" in b and "onnx" not in b]
    lines = code.splitlines()
    promised = [
        line[2:]
        for before, line in itertools.pairwise(lines)
        if before.startswith("print(") and line.startswith("# ")
    ]
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == promised


def test_onnx_example_prints_what_it_says(tmp_path):
    """The ONNX block: export, onnxruntime agreeing with caffe2lite, import back;
    each print's trailing comment is what it prints."""
    import pytest

    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    (code,) = [b for b in _blocks("python") if "caffe2lite.onnx" in b]
    promised = [line.split("# ", 1)[1] for line in code.splitlines()
                if line.startswith("print(") and "# " in line]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == promised
    assert (tmp_path / "mlp.onnx").is_file()


def test_readme_shows_the_real_example_output():
    (console,) = [b for b in _blocks("console") if "examples/sparse_features" in b]
    shown = console.split("\n", 1)[1]
    expected = (ROOT / "examples" / "expected" / "sparse_features.txt").read_text()
    assert shown == expected


def test_readme_shows_the_real_model_zoo_output(capsys):
    """The model zoo block: the same command on the zoo files prints what it shows."""
    from c2l_test_support.realnets import REALNETS

    if REALNETS is None:
        import pytest

        pytest.skip("shared/realnets is not beside the checkout")
    (console,) = [b for b in _blocks("console") if "resnet50/predict_net" in b]
    command, shown = console.split("\n", 1)
    argv = command.removeprefix("$ caffe2lite ").split()
    zoo = REALNETS / "model_zoo"
    argv = [str(zoo / a.replace("/", "__")) if a.startswith("resnet50/") else a for a in argv]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.split("\n", 1)[0] == shown.split("\n", 1)[0]

    def numbers(text: str) -> list[float]:
        return [float(v) for v in re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", text.split("\n", 1)[1])]

    # the last digits of float32 sums vary with numpy's and BLAS's versions
    np.testing.assert_allclose(numbers(out), numbers(shown), rtol=1e-5)
