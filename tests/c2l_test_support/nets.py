"""Running a net (after its init net) in a fresh workspace, for tests that compare
runtimes or round trips."""

from __future__ import annotations

from typing import Any

import numpy as np


def run_net_outputs(net: Any, init: Any, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The net's external outputs after running init, then net on ``inputs``."""
    from caffe2lite.runtime.workspace import Workspace

    ws = Workspace()
    if init is not None:
        ws.run_net_once(init)
    for name, value in inputs.items():
        ws.feed_blob(name, value)
    ws.run_net_once(net)
    return [np.asarray(ws.fetch_blob(n)) for n in dict.fromkeys(net.external_output)]
