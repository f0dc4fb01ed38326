"""Running a PlanDef: its nets, then its execution steps.

Follows Caffe2's plan executor for what a single process can do: a step runs either
its substeps or its networks, in order, ``num_iter`` times (once when unset), and
stops early when its ``should_stop_blob`` holds true; a substep with ``only_once``
runs in the first iteration only; ``create_workspace`` runs a step in a child
workspace that sees the parent's blobs and whose new blobs are dropped afterwards;
``report_net`` runs once when its step ends. ``concurrent_substeps`` and
``num_concurrent_instances`` run their work one after another, in order, which gives
the same blobs for the plans Caffe2 could run deterministically; ``run_every_ms`` is
ignored.
"""

from __future__ import annotations

import collections
from typing import Any, MutableMapping

import numpy as np

from caffe2lite.errors import EnforceError, NetError, did_you_mean
from caffe2lite.proto import caffe2_pb2


def run_plan(ws: Any, plan: caffe2_pb2.PlanDef) -> None:
    """Create the plan's nets in ``ws`` (replacing nets of the same name), run its steps.

    A net may read what an earlier net of the plan makes; the nets' outputs appear
    in a workspace only when their ops run (so a step with ``create_workspace``
    leaves nothing behind)."""
    made: set[str] = set()
    for netdef in plan.network:
        ws._create_net(netdef, overwrite=True, also_existing=made, create_outputs=False)
        made.update(out for op in netdef.op for out in op.output)
    for step in plan.execution_step:
        _run_step(ws, step, ws._blobs)


def _should_stop(step: caffe2_pb2.ExecutionStep, blobs: MutableMapping[str, Any]) -> bool:
    if not step.should_stop_blob:
        return False
    name = step.should_stop_blob
    if name not in blobs or blobs[name] is None:
        return False
    value = np.asarray(blobs[name])
    if value.size != 1:
        raise EnforceError("should_stop_blob must hold a single boolean", blob=name,
                           expected="1 element", found=f"{value.size} elements")
    return bool(value.reshape(()))


def _run_step(ws: Any, step: caffe2_pb2.ExecutionStep, blobs: MutableMapping[str, Any]) -> None:
    if step.substep and step.network:
        raise NetError(f"Steps cannot have both substeps and networks (step '{step.name}')")
    if step.create_workspace:
        blobs = collections.ChainMap({}, blobs)
    num_iter: int | None
    if step.HasField("num_iter"):
        num_iter = step.num_iter
    else:
        num_iter = None if step.should_stop_blob else 1
    nets = [_net(ws, step, n) for n in step.network]
    instances = max(1, step.num_concurrent_instances)
    it = 0
    while (num_iter is None or it < num_iter) and not _should_stop(step, blobs):
        for _ in range(instances):
            for sub in step.substep:
                if sub.only_once and it > 0:
                    continue
                _run_step(ws, sub, blobs)
            for net in nets:
                net.run(blobs)
        it += 1
    if step.report_net:
        _net(ws, step, step.report_net).run(blobs)


def _net(ws: Any, step: caffe2_pb2.ExecutionStep, name: str) -> Any:
    if name not in ws._nets:
        raise NetError(f"Net {name} referenced by execution step '{step.name}' is not in the "
                       "plan or the workspace" + did_you_mean(name, ws._nets))
    return ws._nets[name]
