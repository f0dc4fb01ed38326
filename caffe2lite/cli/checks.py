"""``caffe2lite run`` and ``inspect --check``: every problem found before anything runs.

:func:`check_run` creates (without running) the init net and the net or plan's nets
against the blobs the command will have, and checks the command line against them:

- op types that are not registered (a type Caffe2 had is named as not implemented in
  caffe2lite; any other gets the closest registered names), schema and argument
  problems, arguments a schema does not declare in strict mode (warnings otherwise);
- blobs the net reads that nothing gives (with the op and input that reads each and,
  when the known shapes tell it, the shape and type that op expects);
- ``--input`` blobs no op reads, ``--output`` names no net makes or reads, and files
  (``--save``, ``--save-all``, ``--trace``) that cannot be written: a missing folder
  or a folder in the way.

All problems are reported together by :class:`PreflightError`: up to a few listed
one a line, more grouped, one line per kind of problem with its count and the first
names (``--verbose`` lists them all).
"""

from __future__ import annotations

import os
from typing import Any, Iterable, cast

import numpy as np

from caffe2lite.cli.common import UsageError
from caffe2lite.errors import (
    MAX_LISTED_PROBLEMS,
    Caffe2LiteError,
    NetCompileError,
    did_you_mean,
    group_problems,
)
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.net import CompiledNet
from caffe2lite.schema.shapes import UNKNOWN, Dim, TensorShape


class PreflightError(UsageError):
    """Problems found before anything ran (exit status 2)."""

    def __init__(self, what: str, problems: list[Caffe2LiteError], verbose: bool) -> None:
        self.problems = problems
        problems = sorted(problems, key=_rank)
        self.problems = problems
        n = len(problems)
        head = f"{what} cannot run: {n} {'problem' if n == 1 else 'problems'} found before " \
               "anything ran:"
        if verbose or n <= MAX_LISTED_PROBLEMS:
            lines = [f"  - {p}" for p in problems]
        else:
            lines = [f"  - {line}" for line in group_problems(problems)]
            lines.append("  (run with --verbose to list every problem)")
        super().__init__("\n".join([head] + lines))


# Problems that say the net cannot run here at all come first: a user should learn
# that an op type is missing before feeding the inputs it would need.
_FIRST_KINDS = ("Caffe2 operators not implemented in caffe2lite", "unknown operator types")
_LAST_KINDS = ("missing inputs", "inputs no op reads", "outputs the net does not make")


def _rank(problem: Caffe2LiteError) -> int:
    kind = problem.kind
    if kind in _FIRST_KINDS:
        return 0
    if kind in _LAST_KINDS or (kind or "").endswith("targets that cannot be written"):
        return 2
    return 1


def _problem(message: str, kind: str, name: str, **fields: Any) -> Caffe2LiteError:
    p = UsageError(message, **fields)
    p.kind, p.kind_name = kind, name
    return p


def net_problems(netdef: caffe2_pb2.NetDef, existing: Iterable[str]) -> list[Caffe2LiteError]:
    """What creating ``netdef`` in a workspace holding ``existing`` would report."""
    try:
        CompiledNet(netdef, existing)
    except NetCompileError as e:
        return list(e.problems)
    except Caffe2LiteError as e:
        return [e]
    return []


def reads(netdef: caffe2_pb2.NetDef) -> list[str]:
    """Blobs ``netdef``'s ops read from outside it, in order of first use."""
    produced: set[str] = set()
    needed: list[str] = []
    for op in netdef.op:
        needed.extend(b for b in op.input if b not in produced)
        produced.update(op.output)
    return list(dict.fromkeys(needed))


def _dims_text(dtype: Any, dims: Iterable[Any]) -> str:
    body = ", ".join("?" if isinstance(d, int) and d < 0 else str(d) for d in dims)
    name = np.dtype(dtype).name if dtype is not None else "?"
    return f"{name}[{body}]"


def expected_inputs(netdef: caffe2_pb2.NetDef, known: dict[str, TensorShape],
                    missing: set[str]) -> dict[str, str]:
    """For each missing blob, which op reads it and, when the known shapes tell it,
    the shape and type that op expects: ``input filter of op #0 Conv, float32[?, 3,
    5, 5]`` (``?`` where the net does not fix the size)."""
    from caffe2lite.inference import infer_op
    from caffe2lite.inference.params import RULES
    from caffe2lite.schema import registry

    shapes = dict(known)
    found: dict[str, str] = {}
    for index, op in enumerate(netdef.op):
        ins = [shapes.get(b, UNKNOWN) for b in op.input]
        wanted: dict[int, Any] = {}
        rule = RULES.get(op.type)
        if rule is not None and ins and ins[0].dims is not None and any(
                b in missing for b in op.input):
            try:
                wanted = rule(op, ins, -1)
            except Exception:  # a rule that cannot use these shapes: no expectation
                wanted = {}
        schema = registry.find(op.type, op.engine)
        for i, blob in enumerate(op.input):
            if blob in missing and i in wanted and blob not in shapes:
                dims = tuple("?" if isinstance(d, int) and d < 0 else d for d in wanted[i])
                dtype = ins[0].dtype if ins[0].dtype is not None else np.dtype(np.float32)
                shapes[blob] = ins[i] = TensorShape(dims, dtype)
            if blob in missing and blob not in found:
                slot = schema.input_name(i) if schema is not None else f"input {i}"
                text = f"input {slot} of op #{index} {op.type}"
                if i in wanted:
                    dims_of = cast("tuple[Dim, ...]", shapes[blob].dims)
                    text += f", {_dims_text(shapes[blob].dtype, dims_of)}"
                found[blob] = text
        try:
            outs = infer_op(op, ins)
        except Exception:
            outs = [UNKNOWN] * len(op.output)
        shapes.update(zip(op.output, outs))
    return found


def _writable(option: str, path: str | None) -> Caffe2LiteError | None:
    if not path:
        return None
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        return _problem(f"{option} {path} is a folder, not a file", f"{option} targets "
                        "that cannot be written", f"{path} (a folder)")
    if not os.path.isdir(folder):
        return _problem(f"{option} {path}: the folder {folder} does not exist",
                        f"{option} targets that cannot be written",
                        f"{path} (no folder {folder})")
    return None


def check_run(
    graph: Any,
    init: caffe2_pb2.NetDef | None,
    *,
    inputs: dict[str, Any],
    made: Iterable[str] = (),
    make_all: bool = False,
    outputs: Iterable[str] = (),
    files: dict[str, str | None] | None = None,
    shaped: Iterable[str] = (),
) -> list[Caffe2LiteError]:
    """Every problem of running ``graph`` (a NetDef or PlanDef) after ``init`` with
    ``inputs`` fed (``{name: array}``) and the blobs ``made`` at random; with
    ``make_all`` every blob the net lacks will be made (``--random-inputs``,
    ``--random-init``), so none is missing. ``files``: ``{option: path}`` to write;
    ``shaped``: the ``--input-shape`` names (each must be read by an op)."""
    from caffe2lite.cli.common import graph_nets, is_plan
    from caffe2lite.inference import infer_net

    problems: list[Caffe2LiteError] = []
    init_made: set[str] = set()
    if init is not None:
        problems += net_problems(init, ())
        init_made = {b for op in init.op for b in op.output}
    nets = graph_nets(graph)
    given = set(inputs) | set(made)
    if is_plan(graph):
        have = given | init_made | {b for net in nets for op in net.op for b in op.output}
        for net in nets:  # a net may read what any net of the plan makes
            problems += net_problems(net, have)
    else:
        have = given | init_made
        if make_all:
            have |= set(reads(graph))
        found = net_problems(graph, have)
        missing = {p.kind_name for p in found if p.kind == "missing inputs"}
        if missing:
            known = infer_net(init, {}, strict=False) if init is not None else {}
            known.update({k: TensorShape(v.shape, v.dtype) for k, v in inputs.items()
                          if isinstance(v, np.ndarray)})
            where = expected_inputs(graph, known, missing)
            for p in found:
                if p.kind == "missing inputs" and p.kind_name in where:
                    text = where[p.kind_name]
                    p.kind_name = f"{p.kind_name} ({text})"
                    if ", " in text:
                        p.reason += f" (expected {text.split(', ', 1)[1]})"
        problems += found
    read = {b for net in nets + ([init] if init is not None else []) for op in net.op
            for b in op.input}
    for name in inputs:
        if name not in read:
            problems.append(_problem(f"--input {name}: no op of the net reads it",
                                     "inputs no op reads", name))
    for name in dict.fromkeys(shaped):
        if name not in read:
            problems.append(_problem(f"--input-shape {name}: no op of the net reads it",
                                     "inputs no op reads", name))
    produced = {b for net in nets + ([init] if init is not None else []) for op in net.op
                for b in op.output}
    for name in outputs:
        if name not in produced and name not in read and name not in given:
            hint = did_you_mean(name, produced | read | given)
            problems.append(_problem(
                f"--output {name}: no op of the net makes or reads a blob of that name"
                + hint, "outputs the net does not make", name))
    for option, path in (files or {}).items():
        problem = _writable(option, path)
        if problem is not None:
            problems.append(problem)
    return problems


def check_command(args: Any, out: Any, graph: Any) -> int:
    """``caffe2lite inspect FILE --check``: the problems ``run`` would find before
    running, with the net's declared external inputs (and ``--init``,
    ``--value-info``, ``--input-shape`` blobs) taken as given. Exit 0 when there is
    none, 2 (a :class:`PreflightError`) otherwise."""
    import warnings
    from pathlib import Path

    from caffe2lite.cli.common import graph_nets, is_plan
    from caffe2lite.cli.shapes import parse_input_shape
    from caffe2lite.errors import UnknownArgumentWarning
    from caffe2lite.inference.params import load_value_info
    from caffe2lite.io.protoio import load_net

    init = load_net(args.init) if getattr(args, "init", None) else None
    if not is_plan(graph) and not graph.name:
        graph.name = Path(args.file).stem or "net"
    nets = graph_nets(graph)
    made = {b for net in nets for b in net.external_input}
    if getattr(args, "value_info", None):
        made |= set(load_value_info(args.value_info))
    shaped = [parse_input_shape(t)[0] for t in getattr(args, "input_shape", None) or []]
    made |= set(shaped)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnknownArgumentWarning)
        problems = check_run(graph, init, inputs={}, made=made, shaped=shaped)
    import sys

    for message in dict.fromkeys(str(w.message) for w in caught
                                 if issubclass(w.category, UnknownArgumentWarning)):
        print(f"caffe2lite: warning: {message}", file=sys.stderr)
    what = f"{'plan' if is_plan(graph) else 'net'} '{graph.name}'"
    if problems:
        raise PreflightError(what, problems, getattr(args, "verbose", False))
    ops = [op for net in nets for op in net.op]
    types = {op.type for op in ops}
    print(f"{what}: no problems found ({len(ops)} ops of {len(types)} types, every "
          "input given or made)", file=out)
    return 0
