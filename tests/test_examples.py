"""Every example under examples/ runs, and prints exactly what it promises.

A net pair is a folder with ``init_net.pbtxt`` and ``predict_net.pbtxt``, a plan
example a folder with ``plan.pbtxt``; both run through ``caffe2lite run`` in process
(``cli.main``) and as ``python -m caffe2lite``. A script is any ``.py`` file under
examples/ but helpers (``_*.py``) and generators (``export_*.py``, which rewrite an
example's files and are checked by that example's own tests); it runs as its own
process. When ``examples/expected/<name>.txt`` exists, the output must equal it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from caffe2lite import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXPECTED = EXAMPLES / "expected"


def _net_pairs() -> list[Path]:
    return sorted(
        p.parent
        for p in EXAMPLES.rglob("predict_net.pbtxt")
        if (p.parent / "init_net.pbtxt").is_file()
    )


def _plans() -> list[Path]:
    return sorted(p.parent for p in EXAMPLES.rglob("plan.pbtxt"))


def _scripts() -> list[Path]:
    return sorted(
        p for p in EXAMPLES.rglob("*.py") if not p.name.startswith(("_", "export_"))
    )


def _expected(name: str) -> str | None:
    path = EXPECTED / f"{name}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _run_argv(folder: Path) -> list[str]:
    if (folder / "plan.pbtxt").is_file():
        return ["run", str(folder / "plan.pbtxt")]
    return [
        "run",
        str(folder / "predict_net.pbtxt"),
        "--init",
        str(folder / "init_net.pbtxt"),
    ]


def test_the_promised_examples_exist():
    assert EXAMPLES / "sparse_features" in _net_pairs()
    assert EXAMPLES / "caffe2_style.py" in _scripts()
    for name in ("sparse_features", "caffe2_style"):
        assert _expected(name) is not None, name


def test_examples_readme_names_every_example():
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for item in _net_pairs() + _plans() + _scripts():
        assert item.relative_to(EXAMPLES).as_posix() in text, item


@pytest.mark.parametrize("folder", _net_pairs() + _plans(), ids=lambda p: p.name)
def test_net_files_in_process(folder, capsys):
    status = cli.main(_run_argv(folder))
    out, err = capsys.readouterr()
    assert (status, err) == (0, "")
    want = _expected(folder.name)
    assert out == want if want is not None else out


@pytest.mark.parametrize("folder", _net_pairs() + _plans(), ids=lambda p: p.name)
def test_net_files_python_m(folder, tmp_path):
    save = tmp_path / "out.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "caffe2lite", *_run_argv(folder), "--save", str(save)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    want = _expected(folder.name)
    assert proc.stdout == want if want is not None else proc.stdout
    assert save.is_file()


@pytest.mark.parametrize("script", _scripts(), ids=lambda p: p.stem)
def test_script(script, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (0, "")
    want = _expected(script.stem)
    assert proc.stdout == want if want is not None else proc.stdout
