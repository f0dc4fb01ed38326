"""Regenerate the promised outputs of the examples, ``examples/expected/<name>.txt``.

Each file is the standard output of its example run the way the tests run it: a net
pair (``init_net.pbtxt`` + ``predict_net.pbtxt``) or a plan folder through
``python -m caffe2lite run``, a script as its own process. Run after changing what
an example prints (an operator's results, a random stream):

    python scripts/update_expected.py           # rewrite the files
    python scripts/update_expected.py --check   # exit 1 if one is stale
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXPECTED = EXAMPLES / "expected"


def command(name: str) -> list[str]:
    """The command whose output ``expected/<name>.txt`` holds."""
    folder = EXAMPLES / name
    if (folder / "plan.pbtxt").is_file():
        return [sys.executable, "-m", "caffe2lite", "run", str(folder / "plan.pbtxt")]
    if (folder / "predict_net.pbtxt").is_file():
        return [
            sys.executable,
            "-m",
            "caffe2lite",
            "run",
            str(folder / "predict_net.pbtxt"),
            "--init",
            str(folder / "init_net.pbtxt"),
        ]
    script = EXAMPLES / f"{name}.py"
    if script.is_file():
        return [sys.executable, str(script)]
    raise SystemExit(f"expected/{name}.txt names no example under {EXAMPLES}")


def output(name: str) -> str:
    """What the example prints, run in an empty working directory."""
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run(
            command(name), capture_output=True, text=True, check=False, cwd=cwd
        )
    if proc.returncode or proc.stderr:
        raise SystemExit(f"{name} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def main(argv: list[str] | None = None) -> int:
    """Rewrite every file of examples/expected (or, with ``--check``, report)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a file is stale"
    )
    args = parser.parse_args(argv)
    stale = []
    for path in sorted(EXPECTED.glob("*.txt")):
        text = output(path.stem)
        if path.read_text(encoding="utf-8") != text:
            stale.append(path.name)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "examples/expected is up to date")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
