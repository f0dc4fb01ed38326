"""Caffe2's ``device_checker.DeviceChecker``: an op (or net) must give the same
outputs on every device option it is run with. caffe2lite runs on the CPU only, so
every option runs the same kernels; the check still runs the op once per option in
a workspace of its own and compares the outputs with the first run's.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from caffe2lite.proto import caffe2_pb2


class DeviceChecker:
    """Run an op on each of ``device_options`` and compare the outputs within
    ``threshold`` (absolute and relative)."""

    def __init__(self, threshold: float, device_options: Sequence[Any]) -> None:
        self._threshold = threshold
        self._device_options = list(device_options)

    def _run(self, op: caffe2_pb2.OperatorDef, option: Any, inputs: Sequence[Any],
             outputs_to_check: Sequence[int], input_device_options: dict) -> list:
        from caffe2lite import workspace

        op = copy.deepcopy(op)
        op.device_option.CopyFrom(option)
        old = workspace.CurrentWorkspace()
        workspace.SwitchWorkspace("_device_check_", True)
        try:
            for name, value in zip(op.input, inputs):
                workspace.FeedBlob(name, value, input_device_options.get(name, option))
            workspace.RunOperatorOnce(op)
            return [workspace.FetchBlob(op.output[i]) for i in outputs_to_check]
        finally:
            workspace.ResetWorkspace()
            workspace.SwitchWorkspace(old)

    def CheckSimple(self, op: caffe2_pb2.OperatorDef, inputs: Sequence[Any],
                    outputs_to_check: Sequence[int],
                    input_device_options: dict | None = None) -> bool:
        """True when every device option gives the first one's outputs."""
        results = [self._run(op, option, inputs, outputs_to_check, input_device_options or {})
                   for option in self._device_options]
        ok = True
        for option, outs in zip(self._device_options[1:], results[1:]):
            for index, (want, got) in zip(outputs_to_check, zip(results[0], outs)):
                if not _close(want, got, self._threshold):
                    print(f"Failure in checking device option {option} and output "
                          f"{op.output[index]}.")
                    ok = False
        return ok

    def CheckNet(self, net: Any, inputs: dict | None = None,
                 blobs_to_check: Sequence[str] | None = None,
                 ignore: set | None = None) -> bool:
        """Run ``net`` on each device option; every blob (or ``blobs_to_check``)
        but ``ignore`` must agree with the first run's."""
        from caffe2lite import workspace

        proto = net.Proto() if hasattr(net, "Proto") else net
        inputs, ignore = dict(inputs or {}), set(ignore or ())
        runs = []
        old = workspace.CurrentWorkspace()
        for option in self._device_options:
            workspace.SwitchWorkspace("_device_check_", True)
            try:
                netdef = copy.deepcopy(proto)
                for op in netdef.op:
                    op.device_option.CopyFrom(option)
                for name, value in inputs.items():
                    workspace.FeedBlob(name, value, option)
                workspace.RunNetOnce(netdef)
                names = blobs_to_check or [b for b in workspace.Blobs() if b not in ignore]
                runs.append({n: workspace.FetchBlob(n) for n in names})
            finally:
                workspace.ResetWorkspace()
                workspace.SwitchWorkspace(old)
        return all(_close(runs[0][n], run[n], self._threshold)
                   for run in runs[1:] for n in runs[0])


def _close(a: Any, b: Any, threshold: float) -> bool:
    if isinstance(a, np.ndarray) and a.dtype.kind in "fc":
        return a.shape == np.shape(b) and bool(
            np.allclose(a, b, atol=threshold, rtol=threshold, equal_nan=True))
    return bool(np.array_equal(np.asarray(a), np.asarray(b)))
