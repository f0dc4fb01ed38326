"""What the ``caffe2lite`` command tests share: small nets and plans (on the
test-only operators of the ``scratch_ops`` fixture), and running the command in
process."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from caffe2lite import cli

SCALE_NET = """name: "scale"
op { input: "X" output: "Y" type: "TestScale" arg { name: "scale" f: 2.0 } }
external_input: "X"
external_output: "Y"
"""
PLAN = """name: "doubling_plan"
network {
  name: "double"
  op { input: "X" output: "X" type: "TestScale" arg { name: "scale" f: 2.0 } }
  external_input: "X"
}
execution_step { name: "loop" network: "double" num_iter: 4 }
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``caffe2lite argv...``; returns its exit status, stdout and stderr."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def npy(tmp_path: Path, name: str, value) -> str:
    """Save ``value`` as ``tmp_path/name`` (.npy); returns the path as str."""
    path = tmp_path / name
    np.save(path, value)
    return str(path)
