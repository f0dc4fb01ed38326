"""Every real Caffe2 net file under shared/realnets runs with ``caffe2lite run`` as
its producer ran it (tests/c2l_test_support/realnets.py says how), or is refused
with Caffe2's own reason where Caffe2 would refuse it."""

from __future__ import annotations

import re

import numpy as np
import pytest

from c2l_test_support.realnets import CASES, REALNETS, Case, repair
from caffe2lite.io.protoio import load_net, save_proto
from caffe2lite import cli

pytestmark = pytest.mark.skipif(REALNETS is None, reason="shared/realnets is not beside the checkout")


def run_case(case: Case, tmp_path, capsys, net_path=None) -> tuple[int, dict, dict, str]:
    inputs = case.inputs(np.random.default_rng(0))
    argv = ["run", str(net_path or REALNETS / case.net)]
    if case.init:
        argv += ["--init", str(REALNETS / case.init)]
    if inputs:
        for name, value in inputs.items():
            path = tmp_path / (name.replace("/", "_") + ".npy")
            np.save(path, value)
            argv += ["--input", f"{name}={path}"]
    argv += ["--save", str(tmp_path / "out.npz")]
    status = cli.main(argv)
    _, err = capsys.readouterr()
    outputs = {}
    if status == 0:
        with np.load(tmp_path / "out.npz", allow_pickle=False) as saved:
            outputs = {k: saved[k] for k in saved.files}
    return status, inputs, outputs, err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_real_net(case: Case, tmp_path, capsys):
    status, inputs, outputs, err = run_case(case, tmp_path, capsys)
    if case.refuse is not None:
        assert status != 0, f"{case.net} ran, but Caffe2 refuses it"
        assert re.search(case.refuse, err), err
        assert "not registered" not in err and "internal error" not in err
        if case.check is None:
            return
        # Repaired as a user would repair it, the file gives its producer's values.
        fixed = tmp_path / "repaired.pbtxt"
        save_proto(repair(load_net(REALNETS / case.net)), fixed)
        status, inputs, outputs, err = run_case(case, tmp_path, capsys, fixed)
    assert status == 0, err
    case.check(inputs, outputs)


def test_every_file_is_run_somewhere():
    """Each file is a case's net or init net, or is run by a test named here."""
    elsewhere = {
        # model zoo nets: run with --value-info and --random-init (tests/test_cli_zoo.py)
        "model_zoo", "pytorch_caffe2_cpp_binding",
    }
    int8 = ("int8", "quantized_pred", "quantized_init", "dynamic_quantized")  # tests/ops/int8
    covered = {c.net for c in CASES} | {c.init for c in CASES if c.init}
    missing = []
    for path in sorted(REALNETS.rglob("*.pb*")):
        rel = str(path.relative_to(REALNETS))
        if (rel in covered or rel.split("/")[0] in elsewhere or "empty_init_net" in rel
                or any(k in rel for k in int8)):
            continue
        missing.append(rel)
    assert not missing, missing
