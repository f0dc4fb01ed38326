"""Caffe2's ``workspace`` module: named workspaces of blobs and nets.

Use it as Caffe2's: ``from caffe2lite import workspace`` then ``workspace.FeedBlob``,
``workspace.RunOperatorOnce``, ``workspace.CreateNet`` / ``workspace.RunNet`` ...
The module-level functions act on the current workspace (``"default"`` at import);
:class:`Workspace` is Caffe2's standalone workspace object (``workspace.C.Workspace``).

Blob values are numpy arrays (or ``bytes`` for string blobs). Arrays stored in a
workspace are never modified in place where anything could see it: feeding copies
the caller's array, fetching returns a copy, and operators return new arrays, with
two exceptions that write only where the workspace holds the only reference: the
compiled dropout kernels reuse their previous output's memory (as Caffe2 reuses
output memory), and the sparse updates (ScatterWeightedSum, ScatterAssign and the
sparse optimizers, whose output is their parameter input, as in Caffe2) update the
stored parameter in place, in time proportional to the indices.
"""

from __future__ import annotations

import os
import types
import weakref
from typing import Any, Iterator, Mapping, MutableMapping

import numpy as np
from google.protobuf.message import Message

from caffe2lite.schema import registry
from caffe2lite.errors import (
    ApiTypeError,
    ApiValueError,
    BlobNotFoundError,
    BlobTypeError,
    Caffe2LiteError,
    EnforceError,
    NetError,
    did_you_mean,
)
from caffe2lite.runtime.blob import Blob, TensorCPU, feed_value
from caffe2lite.runtime import profile as _profile
from caffe2lite.runtime.net import CompiledNet, is_strict, run_operator_once, set_strict
from caffe2lite.proto import caffe2_pb2


def _blob_name(name: Any) -> str:
    """Caffe2's StringifyBlobName: a str, or anything whose str() is its name
    (a BlobReference)."""
    if isinstance(name, str):
        return name
    if isinstance(name, bytes):
        return name.decode("utf-8")
    if hasattr(name, "GetNameScope") or type(name).__name__ == "BlobReference":
        return str(name)
    raise BlobTypeError("a blob name must be a str or a BlobReference",
                        expected="str or BlobReference", found=type(name).__name__)


def _to_proto(obj: Any, cls: type) -> Any:
    """Accept a message of ``cls``, its serialised bytes, or an object with ``.Proto()``."""
    if hasattr(obj, "Proto"):
        obj = obj.Proto()
    if isinstance(obj, cls):
        return obj
    if isinstance(obj, str):
        # Caffe2's binding took bytes: a str was refused before anything was parsed.
        raise ApiTypeError(f"expected a {cls.__name__} or its serialized bytes, got a str",
                           expected=f"{cls.__name__} or bytes", found="str")
    if isinstance(obj, bytes):
        # The loaders' checks (nesting, sizes, UTF-8 names) apply to bytes too.
        from caffe2lite.io.protoio import parse_message

        return parse_message(obj, cls, name="<bytes>", fmt="binary")
    raise ApiValueError(f"expected a {cls.__name__}", expected=cls.__name__,
                        found=type(obj).__name__)


_feed_value = feed_value


def _fetch_value(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


class _BlobHandles(Mapping[str, Blob]):
    def __init__(self, ws: "Workspace") -> None:
        self._ws = ws

    def __getitem__(self, name: str) -> Blob:
        if name not in self._ws._blobs:
            raise KeyError(name)
        return Blob(self._ws, name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._ws._blobs))

    def __len__(self) -> int:
        return len(self._ws._blobs)


class _Current:
    def __get__(self, obj: Any, cls: Any) -> "Workspace":
        return _workspaces[_current]


class Workspace:
    """A workspace: named blobs and created nets (Caffe2's ``C.Workspace``).

    >>> ws = Workspace(); ws.create_blob("X").feed(np.array([1, 2], dtype=np.int64))
    True
    >>> ws.blobs["X"].fetch()
    array([1, 2])
    """

    current = _Current()

    def __init__(self) -> None:
        self._blobs: dict[str, Any] = {}
        self._nets: dict[str, CompiledNet] = {}
        self.root_folder = "."
        # Generator states loaded for nets not created yet: applied when created.
        self._pending_generator_states: dict[str, list[dict[str, Any]]] = {}
        _LIVE.add(self)

    def generator_states(self) -> dict[str, list[dict[str, Any]]]:
        """The state of every operator's random generator in the created nets:
        ``{net name: [{"op": index, "type": op type, "state": bit generator state},
        ...]}`` (JSON-serializable; what ``Checkpoint`` saves so that a resumed run
        draws the same numbers as an uninterrupted one)."""
        states: dict[str, list[dict[str, Any]]] = {}
        for name, compiled in self._nets.items():
            entries = [
                {"op": step.index, "type": step.op.type,
                 "state": step.kwargs["rng"].bit_generator.state}
                for step in compiled.ops
                if isinstance(step.kwargs.get("rng"), np.random.Generator)
            ]
            if entries:
                states[name] = entries
        return states

    def set_generator_states(self, states: Any, source: str = "generator states") -> None:
        """Give the operators' generators the states ``generator_states`` returned
        (``Load`` does this with a checkpoint's record). Nets created now get their
        states at once; for a net not created yet they are kept and applied when a
        net of that name is created. Everything is checked first: an entry for an op
        that does not exist, has another type or another kind of generator is an
        ``EnforceError`` naming ``source``, and nothing changes."""
        checked = _checked_generator_states(states, source)
        now = []
        for name, entries in checked.items():
            if name not in self._nets:
                continue
            by_index = {step.index: step for step in self._nets[name].ops}
            for entry in entries:
                now.append((_generator_of(by_index.get(entry["op"]), entry, name, source),
                            entry["state"]))
        _set_all(now, source)
        for name, entries in checked.items():
            if name not in self._nets:
                self._pending_generator_states[name] = entries

    @property
    def blobs(self) -> Mapping[str, Blob]:
        """``{name: Blob}``, sorted by name."""
        return _BlobHandles(self)

    @property
    def nets(self) -> dict[str, "NetHandle"]:
        """``{name: net}``; ``ws.nets[name].run()`` runs the created net here."""
        return {name: NetHandle(self, name) for name in self._nets}

    def create_blob(self, name: Any) -> Blob:
        """Create an empty blob (if missing) and return its handle."""
        name = _blob_name(name)
        self._blobs.setdefault(name, None)
        return Blob(self, name)

    def has_blob(self, name: Any) -> bool:
        return _blob_name(name) in self._blobs

    def feed_blob(self, name: Any, arr: Any, device_option: Any = None) -> bool:
        self._blobs[_blob_name(name)] = _feed_value(arr)
        return True

    def fetch_blob(self, name: Any) -> Any:
        name = _blob_name(name)
        if name not in self._blobs:
            raise BlobNotFoundError(f"Can't find blob: {name}"
                                    + did_you_mean(name, self._blobs), blob=name)
        value = self._blobs[name]
        if value is None:
            raise BlobNotFoundError(f"blob {name} is empty: it was created but never fed",
                                    blob=name)
        return _fetch_value(value)

    def reset(self) -> None:
        self._blobs.clear()
        self._nets.clear()
        self._pending_generator_states.clear()

    def delete_net(self, name: Any) -> bool:
        self._nets.pop(name.Name() if hasattr(name, "Name") else str(name), None)
        return True

    def create_net(self, net: Any, overwrite: bool = False) -> "NetHandle":
        """Compile a NetDef (or core.Net) and keep it under its name.

        As Caffe2's net creation does, every op input must exist then (in the
        workspace, or made by an earlier op) and the ops' output blobs are created
        (empty until an op writes them)."""
        return self._create_net(net, overwrite)

    def _create_net(self, net: Any, overwrite: bool = False, *, also_existing: Any = (),
                    create_outputs: bool = True) -> "NetHandle":
        netdef = _to_proto(net, caffe2_pb2.NetDef)
        if not netdef.HasField("name"):
            raise NetError("Net definition should have a name.")
        if netdef.name in self._nets and not overwrite:
            raise NetError(
                "I respectfully refuse to overwrite an existing net of the same name "
                f'"{netdef.name}", unless you explicitly specify overwrite=true.')
        existing = self._blobs.keys() | set(also_existing) if also_existing else self._blobs
        compiled = CompiledNet(netdef, existing)
        pending = self._pending_generator_states.pop(netdef.name, None)
        if pending:
            source = f"generator states loaded for net '{netdef.name}'"
            by_index = {step.index: step for step in compiled.ops}
            states = [(_generator_of(by_index.get(e["op"]), e, netdef.name, source),
                       e["state"]) for e in pending]
            _set_all(states, source)
        if create_outputs:
            for op in netdef.op:
                for out in op.output:
                    self._blobs.setdefault(out, None)
        self._nets[netdef.name] = compiled
        return NetHandle(self, netdef.name)

    def run_net(self, name: Any, num_iter: int = 1, allow_fail: bool = False,
                profile: Any = False, on_op: Any = None) -> bool:
        """Run created net ``name`` ``num_iter`` times. ``on_op(op_run)`` is called
        after each op (a :class:`caffe2lite.runtime.profile.OpRun`); ``profile=True``
        prints the per-op-type table of this run to stdout, and a
        :class:`~caffe2lite.runtime.profile.Profiler` given as ``profile`` adds this
        run to it."""
        name = name.Name() if hasattr(name, "Name") else str(name)
        if name not in self._nets:
            raise NetError(f"Can't find net {name}" + did_you_mean(name, self._nets))
        hooks = None
        if profile or on_op is not None:
            prof = _profile.Profiler() if profile is True else (profile or None)
            hooks = [h for h in (prof, on_op) if h is not None]
        try:
            self._nets[name].run(self._blobs, num_iter, hooks)
        except Caffe2LiteError:
            if allow_fail:
                return False
            raise
        if profile is True:
            assert prof is not None  # made above for profile=True
            print(prof.table())
        return True

    def benchmark_net(self, name: Any, warmup_runs: int, main_runs: int,
                      run_individual: bool) -> list[float]:
        """Caffe2's ``TEST_Benchmark`` of a created net: ``warmup_runs`` untimed
        runs, then ``main_runs`` timed ones; returns the mean milliseconds of one
        net run followed, with ``run_individual``, by the mean milliseconds of each
        op (op by op, in net order, timed over ``main_runs`` more runs)."""
        import time

        from caffe2lite.errors import EnforceError

        name = name.Name() if hasattr(name, "Name") else str(name)
        if name not in self._nets:
            raise NetError(f"Can't find net {name}" + did_you_mean(name, self._nets))
        if warmup_runs < 0:
            raise EnforceError("Number of warm up runs should be non negative, provided "
                               f"{warmup_runs}.", condition="warmup_runs >= 0")
        net = self._nets[name]
        net.run(self._blobs, warmup_runs)
        if main_runs < 0:
            raise EnforceError("Number of main runs should be non negative, provided "
                               f"{main_runs}.", condition="main_runs >= 0")
        start = time.perf_counter()
        net.run(self._blobs, main_runs)
        millis = (time.perf_counter() - start) * 1e3
        results = [millis / main_runs if main_runs else float("nan")]
        if run_individual:
            per_op = [0.0] * len(net.ops)

            def add(run: Any) -> None:
                per_op[run.index] += (run.end - run.start) * 1e3

            net.run(self._blobs, main_runs, [add])
            results += [t / main_runs if main_runs else float("nan") for t in per_op]
        return results

    def run_operator_once(self, op: Any) -> bool:
        run_operator_once(_to_proto(op, caffe2_pb2.OperatorDef), self._blobs)
        return True

    def run_net_once(self, net: Any) -> bool:
        netdef = _to_proto(net, caffe2_pb2.NetDef)
        CompiledNet(netdef, self._blobs).run(self._blobs)
        return True

    def run_plan(self, plan: Any) -> bool:
        from caffe2lite.runtime.plan import run_plan

        if hasattr(plan, "Nets") and isinstance(plan.Proto(), caffe2_pb2.ExecutionStep):
            plan = _plan_of_step(plan)
        if hasattr(plan, "Proto"):
            plan = plan.Proto()
        if isinstance(plan, caffe2_pb2.ExecutionStep):
            wrapped = caffe2_pb2.PlanDef(name=plan.name)
            wrapped.execution_step.add().CopyFrom(plan)
            plan = wrapped
        run_plan(self, _to_proto(plan, caffe2_pb2.PlanDef))
        return True

    def run(self, obj: Any) -> bool:
        """Run a Net (once), a PlanDef, a NetDef (once) or an OperatorDef (once)."""
        if hasattr(obj, "Nets") and isinstance(obj.Proto(), caffe2_pb2.ExecutionStep):
            return self.run_plan(obj)
        if hasattr(obj, "Proto"):
            obj = obj.Proto()
        if isinstance(obj, (caffe2_pb2.PlanDef, caffe2_pb2.ExecutionStep)):
            return self.run_plan(obj)
        if isinstance(obj, caffe2_pb2.NetDef):
            return self.run_net_once(obj)
        if isinstance(obj, caffe2_pb2.OperatorDef):
            return self.run_operator_once(obj)
        raise ApiValueError(f"Don't know how to do Workspace.run() on {type(obj)}")


#: Every live workspace (ops find theirs from its blob dict: :func:`owner_of`).
_LIVE: "weakref.WeakSet[Workspace]" = weakref.WeakSet()


def owner_of(blobs: Any) -> Workspace | None:
    """The workspace whose blob dict is ``blobs`` (what an op's ``outputs.blobs``
    holds while it runs), or None."""
    if blobs is None:
        return None
    for ws in list(_LIVE):
        if ws._blobs is blobs:
            return ws
    return None


def _checked_generator_states(states: Any, source: str) -> dict[str, list[dict[str, Any]]]:
    """``states`` in the form ``generator_states`` returns, or an EnforceError."""
    def bad(found: str) -> EnforceError:
        return EnforceError(f"{source}: not a map of net names to generator states",
                            expected='{"net": [{"op": int, "type": str, "state": {...}}]}',
                            found=found)

    if not isinstance(states, dict):
        raise bad(type(states).__name__)
    for name, entries in states.items():
        if not isinstance(name, str) or not isinstance(entries, list):
            raise bad(f"entry {name!r}")
        for entry in entries:
            if (not isinstance(entry, dict) or type(entry.get("op")) is not int
                    or not isinstance(entry.get("type"), str)
                    or not isinstance(entry.get("state"), dict)
                    or not isinstance(entry["state"].get("bit_generator"), str)):
                raise bad(f"net {name!r} entry {entry!r:.80}")
    return states


def _generator_of(step: Any, entry: dict[str, Any], net: str, source: str) -> Any:
    """The generator of op ``entry["op"]`` of ``net``, checked against the entry."""
    rng = None if step is None else step.kwargs.get("rng")
    if step is None or step.op.type != entry["type"] or not isinstance(
            rng, np.random.Generator):
        found = ("no such op" if step is None else
                 f"a {step.op.type} op" + ("" if isinstance(rng, np.random.Generator)
                                           else " without a generator"))
        raise EnforceError(
            f"{source}: op #{entry['op']} of net '{net}' does not match the saved "
            "generator", expected=f"a {entry['type']} op with a generator", found=found)
    kind = type(rng.bit_generator).__name__
    if kind != entry["state"]["bit_generator"]:
        raise EnforceError(
            f"{source}: op #{entry['op']} of net '{net}' has another kind of generator",
            expected=entry["state"]["bit_generator"], found=kind)
    return rng


def _set_all(pairs: list[tuple[np.random.Generator, dict[str, Any]]], source: str) -> None:
    """Set every ``(generator, state)``; if numpy refuses one, the generators set
    before it get their old states back, so nothing changes."""
    old = [rng.bit_generator.state for rng, _ in pairs]
    for k, (rng, state) in enumerate(pairs):
        try:
            rng.bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            for (done, _), before in zip(pairs[:k], old):
                done.bit_generator.state = before
            raise EnforceError(f"{source}: a generator state numpy refuses: {e}",
                               expected="a state numpy wrote",
                               found=f"{state!r:.80}") from None


class NetHandle:
    """A created net of a workspace (what ``ws.nets[name]`` and ``create_net`` give):
    ``run()`` runs it on that workspace's blobs."""

    def __init__(self, ws: Workspace, name: str) -> None:
        self._ws, self._name = ws, name

    @property
    def name(self) -> str:
        return self._name

    def Name(self) -> str:
        return self._name

    @property
    def compiled(self) -> CompiledNet:
        return self._ws._nets[self._name]

    def Proto(self) -> caffe2_pb2.NetDef:
        return self.compiled.proto

    def run(self, num_iter: int = 1) -> bool:
        return self._ws.run_net(self._name, num_iter)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self.compiled, attr)

    def __repr__(self) -> str:
        return f"NetHandle({self._name!r})"


def _plan_of_step(step: Any) -> caffe2_pb2.PlanDef:
    """Caffe2's ``core.Plan(step)``: a plan named as the step, carrying its nets."""
    plan = caffe2_pb2.PlanDef(name=step.Name())
    seen: set[str] = set()
    for net in step.Nets():
        proto = net.Proto() if hasattr(net, "Proto") else net
        if proto.name not in seen:
            seen.add(proto.name)
            plan.network.add().CopyFrom(proto)
    plan.execution_step.add().CopyFrom(step.Proto())
    return plan


C = types.SimpleNamespace(Workspace=Workspace, Blob=Blob, TensorCPU=TensorCPU,
                          use_mkldnn=False, use_ideep=False)

_workspaces: dict[str, Workspace] = {"default": Workspace()}
_current = "default"


def _ws() -> Workspace:
    return _workspaces[_current]


def CurrentWorkspace() -> str:
    """The name of the current workspace."""
    return _current


def Workspaces() -> list[str]:
    """The names of every workspace."""
    return list(_workspaces)


def SwitchWorkspace(name: str, create_if_missing: bool | None = None) -> None:
    """Make ``name`` current; create it when missing only if ``create_if_missing``."""
    global _current
    if name not in _workspaces:
        if not create_if_missing:
            raise NetError(f"Workspace {name} does not exist"
                           + did_you_mean(name, _workspaces))
        _workspaces[name] = Workspace()
    _current = name


def ResetWorkspace(root_folder: str | None = None) -> bool:
    """Empty the current workspace (blobs and nets); ``root_folder`` becomes its
    root folder (created when missing), ``"."`` otherwise."""
    if root_folder is not None and not os.path.exists(root_folder):
        os.makedirs(root_folder)
    _ws().reset()
    _ws().root_folder = "." if root_folder is None else str(root_folder)
    return True


def RootFolder() -> str:
    """The current workspace's root folder (``"."`` unless ResetWorkspace set one)."""
    return _ws().root_folder


def Blobs() -> list[str]:
    """The names of the current workspace's blobs, sorted."""
    return sorted(_ws()._blobs)


def HasBlob(name: Any) -> bool:
    return _ws().has_blob(name)


def CreateBlob(name: Any) -> bool:
    _ws().create_blob(name)
    return True


def FeedBlob(name: Any, arr: Any, device_option: Any = None) -> bool:
    """Store a copy of ``arr`` (ndarray, str/bytes or TensorProto) as blob ``name``."""
    return _ws().feed_blob(name, arr, device_option)


def FetchBlob(name: Any) -> Any:
    """A copy of blob ``name``'s array (``bytes`` for a string blob)."""
    return _ws().fetch_blob(name)


def FetchBlobs(names: list[Any]) -> list[Any]:
    return [FetchBlob(n) for n in names]


def RunOperatorOnce(operator: Any) -> bool:
    """Create ``operator`` (fresh random generator), run it once, discard it."""
    return _ws().run_operator_once(operator)


def RunOperatorsOnce(operators: list[Any]) -> bool:
    for op in operators:
        if not RunOperatorOnce(op):
            return False
    return True


def RunNetOnce(net: Any) -> bool:
    """Compile ``net`` (a core.Net or NetDef), run it once and discard it."""
    return _ws().run_net_once(net)


def CreateNet(net: Any, overwrite: bool = False, input_blobs: list[Any] | None = None) -> bool:
    """Compile ``net`` into the current workspace; raises on any problem in it."""
    for blob in input_blobs or ():
        _ws().create_blob(blob)
    _ws().create_net(net, overwrite)
    return True


def RunNet(name: Any, num_iter: int = 1, allow_fail: bool = False, *,
           profile: Any = False, on_op: Any = None) -> bool:
    """Run a created net ``num_iter`` times; its ops keep their generators.

    ``on_op``: a callable given a :class:`caffe2lite.runtime.profile.OpRun` after
    each op ran (index, op, inputs, outputs, times). ``profile=True`` prints a
    per-op-type profile of the run; a ``Profiler`` collects it instead. Neither
    costs anything when not given."""
    return _ws().run_net(name, num_iter, allow_fail, profile=profile, on_op=on_op)


def BenchmarkNet(name: Any, warmup_runs: int, main_runs: int,
                 run_individual: bool) -> list[float]:
    """Caffe2's ``BenchmarkNet``: ``[mean ms per net run]`` followed, with
    ``run_individual``, by the mean ms of each op run on its own, in net order."""
    return _ws().benchmark_net(name, warmup_runs, main_runs, run_individual)


def SetStrict(strict: bool = True) -> None:
    """Make arguments an op's schema does not declare an error when a net or op is
    created (by default they are an ``UnknownArgumentWarning``). caffe2lite only."""
    set_strict(strict)


def IsStrict() -> bool:
    """Whether :func:`SetStrict` is on."""
    return is_strict()


def RunPlan(plan_or_step: Any) -> bool:
    """Run a PlanDef, a core.Plan, or an ExecutionStep (wrapped into a plan)."""
    return _ws().run_plan(plan_or_step)


def StringifyProto(obj: Any) -> Any:
    if isinstance(obj, (str, bytes)):
        return obj
    if isinstance(obj, Message):
        return obj.SerializeToString()
    if hasattr(obj, "Proto"):
        return obj.Proto().SerializeToString()
    raise ApiValueError(f"Unexpected argument to StringifyProto of type {type(obj)}")


def GetNetName(net: Any) -> str:
    """The name of ``net``: a str as itself, a ``core.Net`` (or an object with
    ``Name()``) by its name, a NetDef by its ``name`` field.

    >>> GetNetName(caffe2_pb2.NetDef(name="train"))
    'train'
    """
    if isinstance(net, str):
        return net
    if isinstance(net, caffe2_pb2.NetDef):
        return net.name
    if hasattr(net, "Name"):
        return net.Name()
    raise BlobTypeError(f"Not a Net object: {net}", expected="str, Net or NetDef",
                        found=type(net).__name__)


def RegisteredOperators() -> list[str]:
    """Every registered operator type."""
    return registry.registered_types()


class _BlobsDict(MutableMapping[str, Any]):
    """``workspace.blobs``: fetch with ``blobs[name]``, feed with ``blobs[name] = arr``."""

    def __getitem__(self, name: Any) -> Any:
        return FetchBlob(name)

    def __setitem__(self, name: Any, value: Any) -> None:
        FeedBlob(name, value)

    def __delitem__(self, name: Any) -> None:
        del _ws()._blobs[_blob_name(name)]

    def __contains__(self, name: object) -> bool:
        return HasBlob(name)

    def __iter__(self) -> Iterator[str]:
        return iter(Blobs())

    def __len__(self) -> int:
        return len(_ws()._blobs)


blobs = _BlobsDict()

__all__ = [
    "Blob", "Workspace", "C", "NetHandle", "CurrentWorkspace", "Workspaces", "SwitchWorkspace",
    "ResetWorkspace", "RootFolder", "Blobs", "HasBlob", "CreateBlob", "FeedBlob",
    "FetchBlob", "FetchBlobs", "RunOperatorOnce", "RunOperatorsOnce", "RunNetOnce",
    "CreateNet", "RunNet", "BenchmarkNet", "SetStrict", "IsStrict", "RunPlan", "StringifyProto", "GetNetName", "RegisteredOperators",
    "blobs",
]
