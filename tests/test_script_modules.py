"""The modules a Caffe2 training script imports besides the model code: dyndep,
timeout_guard, experiment_util, predictor_constants (as Caffe2's resnet50_trainer
imports them)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from caffe2lite import dyndep, experiment_util, timeout_guard
from caffe2lite.predictor_constants import predictor_constants


def test_dyndep_ignores_library_names_and_refuses_files(capsys, tmp_path):
    name = "@/caffe2/caffe2/distributed:file_store_handler_ops"
    dyndep.InitOpsLibrary(name)
    assert capsys.readouterr().out == f"Ignoring {name} as it is not a valid file.\n"
    assert name in dyndep.GetImportedOpsLibraries()
    library = tmp_path / "libcustom_ops.so"
    library.write_bytes(b"\x7fELF")
    with pytest.raises(dyndep.OpsLibraryError, match="does not load native code"):
        dyndep.InitOpsLibrary(str(library))


def _guarded(body: str) -> subprocess.CompletedProcess:
    code = "import time\nfrom caffe2lite import timeout_guard\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_timeout_guard_interrupts_a_call_that_hangs():
    res = _guarded('''
        with timeout_guard.CompleteInTimeOrDie(0.5):
            time.sleep(30)
        print("not reached")
    ''')
    assert res.returncode != 0 and "not reached" not in res.stdout
    assert "Call did not finish in time. Timeout:0.5s PID:" in res.stderr
    assert "KeyboardInterrupt" in res.stderr and "-----Before forcing------" in res.stderr


def test_timeout_guard_leaves_calls_in_time_and_failed_calls_alone():
    res = _guarded('''
        with timeout_guard.CompleteInTimeOrDie(0.5):
            pass
        try:
            with timeout_guard.CompleteInTimeOrDie(0.5):
                raise ValueError("caught")
        except ValueError:
            pass
        time.sleep(1.5)
        print("alive")
    ''')
    assert res.returncode == 0, res.stderr
    assert res.stdout == "alive\n"


def test_experiment_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = []

    class Logger(experiment_util.ExternalLogger):
        def set_runtime_args(self, runtime_args):
            seen.append(("args", sorted(runtime_args)))

        def log(self, log_dict):
            seen.append(("log", dict(log_dict)))

    log = experiment_util.ModelTrainerLog("resnet", {"lr": 0.1}, [Logger()])
    log.log(64, 2, {"loss": 0.5, "accuracy": 0.25})
    log.log(128, 4, {"loss": 0.4, "accuracy": 0.5})
    assert log.filename == log.experiment_id + ".log"
    assert log.experiment_id.startswith("resnet_")
    lines = (tmp_path / log.filename).read_text().splitlines()
    assert lines[0] == "# {'lr': 0.1}"
    assert lines[1] == ("time_spent,cumulative_time_spent,input_count,"
                        "cumulative_input_count,cumulative_batch_count,inputs_per_sec,"
                        "accuracy,loss")
    first, second = (line.split(",") for line in lines[2:])
    assert first[2:5] == ["64", "64", "2"] and first[6:] == ["0.25", "0.5"]
    assert second[2:5] == ["64", "128", "4"] and second[6:] == ["0.5", "0.4"]
    assert seen[0] == ("args", ["experiment_id", "hostname", "lr"])
    assert [entry[1]["cumulative_input_count"] for entry in seen[1:]] == [64, 128]


def test_predictor_constants():
    # the defaults of Caffe2's predictor_consts.proto
    assert predictor_constants.PREDICT_NET_TYPE == "PREDICT_NET_TYPE"
    assert predictor_constants.META_NET_DEF == "!!META_NET_DEF"
    assert predictor_constants.DEFERRED_BLOB_READER == "__DEFERRED_BLOB_READER__"
