"""``core.Plan`` and ``core.ExecutionStep``: build a PlanDef in Python."""

from __future__ import annotations

from typing import Any

from caffe2lite.proto import caffe2_pb2


class ExecutionStep:
    """One step of a plan: nets to run, or substeps, ``num_iter`` times."""

    def __init__(self, name: str, nets: Any = None, num_iter: int | None = None) -> None:
        self._step = caffe2_pb2.ExecutionStep(name=name)
        self._nets: list[Any] = []
        self._substeps: list[ExecutionStep] = []
        for net in nets if isinstance(nets, (list, tuple)) else ([nets] if nets else []):
            self.AddNet(net)
        if num_iter is not None:
            self.SetIter(num_iter)

    def Name(self) -> str:
        return self._step.name

    def Proto(self) -> caffe2_pb2.ExecutionStep:
        return self._step

    def Nets(self) -> list[Any]:
        """Every net this step and its substeps run (core.Net objects or NetDefs)."""
        return self._nets + [n for s in self._substeps for n in s.Nets()]

    def SetIter(self, num_iter: int) -> None:
        self._step.num_iter = num_iter

    def SetShouldStopBlob(self, blob: Any) -> None:
        self._step.should_stop_blob = str(blob)

    def SetOnlyOnce(self, only_once: bool) -> None:
        self._step.only_once = only_once

    def SetReportNet(self, net: Any, report_interval: int) -> None:
        self._nets.append(net)
        self._step.report_net = _net_name(net)
        self._step.report_interval = report_interval

    def SetConcurrentSubsteps(self, concurrent: bool) -> None:
        self._step.concurrent_substeps = concurrent

    def SetCreateWorkspace(self, create: bool) -> None:
        self._step.create_workspace = create

    def AddNet(self, net: Any) -> None:
        self._nets.append(net)
        self._step.network.append(_net_name(net))

    def AddSubstep(self, substep: "ExecutionStep") -> None:
        self._substeps.append(substep)
        self._step.substep.add().CopyFrom(substep.Proto())


def _net_name(net: Any) -> str:
    if hasattr(net, "Name"):
        return net.Name()
    return net.name if isinstance(net, caffe2_pb2.NetDef) else str(net)


class Plan:
    """A PlanDef: the nets it creates and the steps it runs."""

    def __init__(self, name_or_step: Any) -> None:
        self._plan = caffe2_pb2.PlanDef()
        self._net_names: list[str] = []
        if isinstance(name_or_step, ExecutionStep):
            self._plan.name = name_or_step.Name()
            self.AddStep(name_or_step)
        else:
            self._plan.name = str(name_or_step)

    def Name(self) -> str:
        return self._plan.name

    def Proto(self) -> caffe2_pb2.PlanDef:
        return self._plan

    def AddNets(self, nets: list[Any]) -> None:
        for net in nets:
            name = _net_name(net)
            if name in self._net_names:
                continue
            self._net_names.append(name)
            proto = net.Proto() if hasattr(net, "Proto") else net
            self._plan.network.add().CopyFrom(proto)

    def AddStep(self, step: ExecutionStep) -> None:
        self._plan.execution_step.add().CopyFrom(step.Proto())
        self.AddNets(step.Nets())


def execution_step(
    default_name: str,
    steps_or_nets: Any,
    num_iter: int | None = None,
    report_net: Any = None,
    report_interval: int | None = None,
    concurrent_substeps: bool | None = None,
    should_stop_blob: Any = None,
    only_once: bool | None = None,
    create_workspace: bool | None = None,
) -> ExecutionStep:
    """Caffe2's helper: a step of nets, or of substeps, with its options set."""
    items = steps_or_nets if isinstance(steps_or_nets, (list, tuple)) else [steps_or_nets]
    step = ExecutionStep(default_name)
    for item in items:
        if isinstance(item, ExecutionStep):
            step.AddSubstep(item)
        else:
            step.AddNet(item)
    if num_iter is not None:
        step.SetIter(num_iter)
    if report_net is not None:
        step.SetReportNet(report_net, report_interval or 1)
    if concurrent_substeps is not None:
        step.SetConcurrentSubsteps(concurrent_substeps)
    if should_stop_blob is not None:
        step.SetShouldStopBlob(should_stop_blob)
    if only_once is not None:
        step.SetOnlyOnce(only_once)
    if create_workspace is not None:
        step.SetCreateWorkspace(create_workspace)
    return step
