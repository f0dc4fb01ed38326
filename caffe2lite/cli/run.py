"""``caffe2lite run``: run a NetDef (or a PlanDef) from a file and show its outputs.

The order of one run: read every file (nets and ``.npy``/``.npz`` inputs) so that
a bad file stops the command before anything runs; check everything
(:mod:`caffe2lite.cli.checks`: unknown op types, schema and argument problems, blobs
nothing gives, ``--input`` blobs no op reads, ``--output`` names no net knows, files
that cannot be written), all reported together before the init net or any op runs
(exit 2), with unknown arguments as warnings on stderr (errors with ``--strict``);
seed the unseeded ops when ``--seed`` is given; run the init net once; make the
random inputs asked for; feed the inputs (they win over blobs of the same name made
by the init net, as a predictor's inputs do); create the net and run it ``--iters``
times (a progress bar on a terminal; Ctrl-C stops it, says how many iterations ran,
and still prints and saves what exists, exit 130), or run the plan; print (and
``--save`` / ``--save-all``) the outputs, then the ``--profile`` table; write the
``--trace``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from caffe2lite.cli.common import (
    Graph,
    UsageError,
    format_value,
    graph_nets,
    is_plan,
    load_graph,
)
from caffe2lite.cli.checks import PreflightError, check_run
from caffe2lite.cli.progress import NullBar, progress_bar
from caffe2lite.cli.shapes import parse_input_shape
from caffe2lite.distributed.mpi_world import launcher_rank_and_size
from caffe2lite.io.int8 import Int8Tensor
from caffe2lite.errors import (
    MAX_NAMES,
    Caffe2LiteError,
    UnknownArgumentWarning,
    did_you_mean,
)
from caffe2lite.inference.params import (
    ParameterShapeError,
    load_value_info,
    random_inputs,
    random_parameters,
)
from caffe2lite.schema.shapes import TensorShape
from caffe2lite.proto import caffe2_pb2
from caffe2lite.io.protoio import load_net
from caffe2lite.runtime.net import is_strict, set_strict
from caffe2lite.runtime.profile import ACTIVE, Profiler
from caffe2lite.runtime.workspace import Workspace

UINT32 = 2**32


def seed_unseeded_ops(netdef: caffe2_pb2.NetDef, seed: int) -> None:
    """Give op ``i`` the seed ``seed + i`` unless it already has one.

    An op "has a seed" when its own device option sets ``random_seed``, or when it
    has no device option and the net's sets one (Caffe2 copies the net's device
    option to such ops). When the op had no device option of its own, the net's is
    copied first, so only the seed changes.

    >>> net = caffe2_pb2.NetDef(op=[caffe2_pb2.OperatorDef(type="A"),
    ...                             caffe2_pb2.OperatorDef(type="B")])
    >>> net.op[1].device_option.random_seed = 7
    >>> seed_unseeded_ops(net, 100)
    >>> [op.device_option.random_seed for op in net.op]
    [100, 7]
    """
    net_option = netdef.device_option if netdef.HasField("device_option") else None
    for i, op in enumerate(netdef.op):
        if op.HasField("device_option"):
            if op.device_option.HasField("random_seed"):
                continue
        elif net_option is not None:
            if net_option.HasField("random_seed"):
                continue
            op.device_option.CopyFrom(net_option)
        op.device_option.random_seed = (seed + i) % UINT32


def _load_npy(name: str, path: str) -> np.ndarray:
    try:
        value = np.load(path, allow_pickle=False)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise UsageError(f"cannot load {path} as a .npy array: {e}") from None
    if isinstance(value, np.lib.npyio.NpzFile):
        value.close()
        raise UsageError(
            f"--input {name}={path} is an .npz archive: give it with --inputs"
        )
    return value


def _load_npz(path: str) -> dict[str, np.ndarray]:
    try:
        archive = np.load(path, allow_pickle=False)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise UsageError(f"cannot load {path} as an .npz archive: {e}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise UsageError(
            f"--inputs {path} is a single array, not an .npz archive: "
            "give it with --input NAME=FILE.npy"
        )
    with archive:
        try:
            return {key: archive[key] for key in archive.files}
        except (ValueError, OSError, zipfile.BadZipFile) as e:
            raise UsageError(f"cannot load {path} as an .npz archive: {e}") from None


def load_inputs(npz_files: list[str], pairs: list[str]) -> dict[str, np.ndarray]:
    """Read ``--inputs`` archives, then ``--input NAME=FILE.npy`` pairs (later wins)."""
    inputs: dict[str, np.ndarray] = {}
    for path in npz_files:
        inputs.update(_load_npz(path))
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"--input expects NAME=FILE.npy, got '{pair}'")
        inputs[name] = _load_npy(name, path)
    return inputs


def shard_inputs(inputs: dict[str, np.ndarray], rank: int, size: int) -> dict[str, np.ndarray]:
    """Rank ``rank``'s part of every input: the first axis split into ``size``
    near-equal contiguous parts (``numpy.array_split``), so the parts of all ranks
    put together in rank order are the whole array.

    >>> shard_inputs({"X": np.arange(5)}, 1, 2)["X"].tolist()
    [3, 4]
    """
    out = {}
    for name, value in inputs.items():
        if value.ndim == 0:
            raise UsageError(f"--shard-inputs: input '{name}' is a scalar; there is no "
                             "first axis to split across the ranks")
        if value.shape[0] < size:
            raise UsageError(f"--shard-inputs: input '{name}' has {value.shape[0]} rows, "
                             f"fewer than the {size} ranks")
        out[name] = np.ascontiguousarray(np.array_split(value, size)[rank])
    return out


def default_outputs(graph: Graph) -> list[str]:
    """The external outputs of the net (of every net of a plan), else the outputs
    of the (last net's) last op."""
    nets = graph_nets(graph)
    names = list(dict.fromkeys(b for net in nets for b in net.external_output))
    if names:
        return names
    for net in reversed(nets):
        if len(net.op):
            return list(net.op[-1].output)
    return []


def save_npz(path: str, values: dict[str, Any]) -> None:
    """Write ``values`` as an ``.npz`` archive that ``numpy.load`` reads without
    pickling (string blobs are stored as numpy byte strings)."""
    try:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, value in list(values.items()):
                if isinstance(value, Int8Tensor):  # the codes, and what they mean
                    values = {**values, name: value.data,
                              f"{name}__scale": np.float32(value.scale),
                              f"{name}__zero_point": np.int32(value.zero_point)}
            for name, value in values.items():
                if not isinstance(value, (np.ndarray, np.generic, bytes, str, int, float, bool)):
                    raise Caffe2LiteError(f"cannot save blob '{name}' to {path}: it holds "
                                          f"a {type(value).__name__}, not a tensor")
                if isinstance(value, (bytes, str)) or (
                    isinstance(value, np.ndarray) and value.dtype == object
                ):
                    value = np.array(value, dtype=np.bytes_)
                with archive.open(name + ".npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, np.asarray(value), allow_pickle=False)
    except OSError as e:
        raise Caffe2LiteError(f"cannot write {path}: {e.strerror or e}") from None


def missing_inputs(netdef: caffe2_pb2.NetDef, ws: Workspace) -> list[str]:
    """The blobs ``netdef``'s ops read from outside (inputs no earlier op writes) that
    ``ws`` does not hold, in order of first use. A declared external input that no op
    reads need not exist, as in Caffe2 (model zoo nets declare data-queue blobs)."""
    produced: set[str] = set()
    needed: list[str] = []
    for op in netdef.op:
        needed.extend(b for b in op.input if b not in produced)
        produced.update(op.output)
    return [b for b in dict.fromkeys(needed) if not ws.has_blob(b)]


def _random_shapes(args: argparse.Namespace) -> dict[str, TensorShape]:
    """Shapes of the inputs to make at random: ``--value-info`` entries, then
    ``--input-shape`` ones (later wins); a symbolic dimension (``N``) takes
    ``--random-init-dim``."""
    shapes = load_value_info(args.value_info) if args.value_info else {}
    for text in args.input_shape:
        name, shape = parse_input_shape(text)
        assert shape.dims is not None  # parse_input_shape always gives the dims
        dims = tuple(d if isinstance(d, int) else args.random_init_dim for d in shape.dims)
        shapes[name] = TensorShape(dims, shape.dtype)
    return shapes


def _make_missing(args: argparse.Namespace, graph: Graph, ws: Workspace,
                  inputs: dict[str, np.ndarray]) -> None:
    """``--value-info`` / ``--input-shape``: random values for the listed inputs not
    given; and ``--random-init`` / ``--random-inputs``: random parameters for what
    the net still lacks. All from a generator seeded by ``--seed`` (0 when not
    given). Adds to ``inputs``."""
    make_all = args.random_init or args.random_inputs
    if not (args.value_info or args.input_shape or make_all):
        return
    if is_plan(graph):
        raise UsageError("--value-info, --input-shape, --random-init and --random-inputs "
                         "apply to a NetDef, not a plan")
    rng = np.random.default_rng(args.seed or 0)
    shapes = _random_shapes(args)
    fresh = {k: v for k, v in shapes.items() if k not in inputs and not ws.has_blob(k)}
    inputs.update(random_inputs(fresh, rng))
    if make_all:
        known = {k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()
                 if isinstance(v, np.ndarray)}
        for name in ws.blobs:
            value = ws.fetch_blob(name)
            if isinstance(value, np.ndarray):
                known.setdefault(name, TensorShape(value.shape, value.dtype))
        try:
            made = random_parameters(graph, known, free_dim=args.random_init_dim,
                                     seed=args.seed or 0)
        except ParameterShapeError as e:
            if not args.random_inputs:
                raise
            raise UsageError(f"{e}; give the shape of such an input with --input-shape "
                             "NAME=DTYPE[d0,d1,...] or --value-info FILE.json") from None
        inputs.update(made)


def _net_name(netdef: caffe2_pb2.NetDef, path: str) -> None:
    # Caffe2 refuses to create a net without a name; a file's net is named after it.
    if not netdef.name:
        netdef.name = Path(path).stem or "net"


_NEWER_OPTIONS: dict[str, Any] = {
    "shard_inputs": False, "value_info": None, "random_init": False, "random_init_dim": 8,
    "random_inputs": False,
    "input_shape": [], "strict": False, "verbose": False, "profile": False, "trace": None,
    "save_all": None,
}


def _preflight(args: argparse.Namespace, graph: Graph, init: caffe2_pb2.NetDef | None,
               inputs: dict[str, np.ndarray]) -> None:
    """Every problem found before anything runs (:mod:`caffe2lite.cli.checks`),
    reported together; unknown arguments are printed as warnings on stderr."""
    made = set(_random_shapes(args)) if not is_plan(graph) else set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownArgumentWarning)
        problems = check_run(
            graph, init, inputs=inputs, made=made,
            make_all=args.random_init or args.random_inputs, outputs=args.output,
            files={"--save": args.save, "--save-all": args.save_all, "--trace": args.trace},
            shaped=[parse_input_shape(t)[0] for t in args.input_shape])
    for message in dict.fromkeys(str(w.message) for w in caught
                                 if issubclass(w.category, UnknownArgumentWarning)):
        print(f"caffe2lite: warning: {message}", file=sys.stderr)
    if problems:
        what = f"{'plan' if is_plan(graph) else 'net'} '{graph.name}'"
        raise PreflightError(what, problems, args.verbose)


def _hooks(args: argparse.Namespace) -> tuple[Profiler | None, Any]:
    """The profiler (``--profile``, ``--trace``) and the per-op hook of the run."""
    prof = Profiler(trace=bool(args.trace)) if args.profile or args.trace else None
    hooks: list[Any] = [prof] if prof is not None else []
    if args.verbose:
        # One write per line: a Ctrl-C between a line and its newline (print writes
        # them separately) would run the interrupted message into the line.
        hooks.append(lambda run: sys.stderr.write(run.describe() + "\n"))
    if not hooks:
        return prof, None
    if len(hooks) == 1:
        return prof, hooks[0]

    def all_hooks(run: Any) -> None:
        for hook in hooks:
            hook(run)

    return prof, all_hooks


def _run_main(args: argparse.Namespace, graph: Graph, ws: Workspace, hook: Any) -> int:
    """Run the net ``--iters`` times (a bar on a terminal) or the plan; returns the
    iterations done. Ctrl-C stops between ops: the count so far is returned."""
    if is_plan(graph):
        return _run_plan(graph, ws, hook)
    ws.create_net(graph, overwrite=True)
    bar = progress_bar(args.iters, desc=graph.name)
    done = 0
    counted = None
    if hook is not None:
        def counted(run: Any) -> None:  # each run_net call counts from 0: say which
            run.iteration = done
            hook(run)
    try:
        for _ in range(args.iters):
            ws.run_net(graph.name, 1, on_op=counted)
            done += 1
            bar.update()
    except KeyboardInterrupt:
        return -done - 1
    finally:
        bar.close()
    return done


def plan_net_runs(plan: caffe2_pb2.PlanDef) -> int | None:
    """How many net runs ``plan`` makes (None when a ``should_stop_blob`` decides)."""

    def step_runs(step: caffe2_pb2.ExecutionStep) -> int | None:
        if step.should_stop_blob and not step.HasField("num_iter"):
            return None
        n = step.num_iter if step.HasField("num_iter") else 1
        once = per_iter = 0
        for sub in step.substep:
            runs = step_runs(sub)
            if runs is None:
                return None
            if sub.only_once:
                once += runs
            else:
                per_iter += runs
        per_iter += len(step.network)
        instances = max(1, step.num_concurrent_instances)
        return (min(n, 1) * once + n * per_iter) * instances + (1 if step.report_net else 0)

    total = 0
    for step in plan.execution_step:
        runs = step_runs(step)
        if runs is None:
            return None
        total += runs
    return total


def _run_plan(plan: caffe2_pb2.PlanDef, ws: Workspace, hook: Any) -> int:
    """Run the plan; on a terminal a bar counts its net runs. Returns 1, or -1 when
    interrupted."""
    total = plan_net_runs(plan)
    bar = progress_bar(total, desc=plan.name, unit="net run")
    last = {net.name: len(net.op) - 1 for net in plan.network}
    hooks = [hook] if hook is not None else []
    if not isinstance(bar, NullBar):
        def count(run: Any) -> None:
            if run.index == last.get(run.net):
                bar.update()

        hooks.append(count)
    ACTIVE.extend(hooks)
    try:
        ws.run_plan(plan)
    except KeyboardInterrupt:
        return -1
    finally:
        for h in hooks:
            ACTIVE.remove(h)
        bar.close()
    return 1


def run_command(args: argparse.Namespace, out: Any) -> int:
    """Carry out ``caffe2lite run`` with parsed ``args``, printing to ``out``."""
    for name, default in _NEWER_OPTIONS.items():  # called without the newer options
        if getattr(args, name, None) is None:
            setattr(args, name, default)
    graph = load_graph(args.net, plan=args.plan)
    init = load_net(args.init) if args.init else None
    if is_plan(graph) and args.iters != 1:
        raise UsageError(
            "--iters does not apply to a plan: its execution steps say how "
            "many times each net runs (num_iter)"
        )
    inputs = load_inputs(args.inputs, args.input)
    rank, size = launcher_rank_and_size()
    if args.shard_inputs:
        inputs = shard_inputs(inputs, rank, size)
    for option in ("save", "save_all", "trace"):
        path = getattr(args, option)
        if path and "{rank}" in os.fspath(path):
            setattr(args, option, os.fspath(path).replace("{rank}", str(rank)))
    if not is_plan(graph):
        _net_name(graph, args.net)
    was_strict = is_strict()
    set_strict(args.strict)
    try:
        _preflight(args, graph, init, inputs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownArgumentWarning)  # already shown
            return _run_checked(args, graph, init, inputs, out)
    finally:
        set_strict(was_strict)


def _run_checked(args: argparse.Namespace, graph: Graph, init: caffe2_pb2.NetDef | None,
                 inputs: dict[str, np.ndarray], out: Any) -> int:
    if args.seed is not None:
        for netdef in graph_nets(graph) + ([init] if init is not None else []):
            seed_unseeded_ops(netdef, args.seed)
    ws = Workspace()
    if init is not None:
        ws.run_net_once(init)
    _make_missing(args, graph, ws, inputs)
    for name, value in inputs.items():
        ws.feed_blob(name, value)
    if not is_plan(graph):
        missing = missing_inputs(graph, ws)
        if missing:
            shown = missing if args.verbose else missing[:MAX_NAMES]
            more = len(missing) - len(shown)
            raise UsageError(
                f"net '{graph.name}' needs {len(missing)} blobs that are not in the "
                f"workspace: {', '.join(shown)}"
                + (f", ... and {more} more (--verbose lists them)" if more else "")
                + "; feed them with --input NAME=FILE.npy or --inputs FILE.npz, or make "
                "them in the --init net"
            )
    prof, hook = _hooks(args)
    done = _run_main(args, graph, ws, hook)
    interrupted = done < 0
    if interrupted and is_plan(graph):
        print("caffe2lite: interrupted while running the plan; showing and saving the "
              "blobs as they are", file=sys.stderr)
    elif interrupted:
        done = -done - 1
        print(f"caffe2lite: interrupted after {done} of {args.iters} iterations; "
              "showing and saving the blobs as they are", file=sys.stderr)
    names = args.output or default_outputs(graph)
    values = {}
    for name in names:
        if not ws.has_blob(name) or ws._blobs.get(name) is None:
            if interrupted:
                continue
            raise UsageError(
                f"no blob named '{name}' after the run"
                + did_you_mean(name, list(ws.blobs))
            )
        values[name] = ws.fetch_blob(name)
    for name, value in values.items():
        print(format_value(name, value), file=out)
    if prof is not None and args.profile:
        print(prof.table(), file=out)
    if args.trace:
        assert prof is not None  # --trace turns the profiler on
        prof.write_trace(args.trace)
    if args.save:
        save_npz(os.fspath(args.save), values)
    if args.save_all:
        save_npz(os.fspath(args.save_all), _savable(ws))
    return 130 if interrupted else 0


def _savable(ws: Workspace) -> dict[str, Any]:
    """Every blob that holds a tensor or a string (``--save-all``)."""
    kept = {}
    for name, value in sorted(ws._blobs.items()):
        if isinstance(value, (np.ndarray, bytes, str)):
            kept[name] = value
    return kept
