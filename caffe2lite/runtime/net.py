"""NetDef -> compiled plan -> run.

Compiling resolves every op in the registry, verifies it against its schema, parses
its arguments once (defaults applied), gives it a random generator when it asks for
one, and checks that every input can exist. All problems of a net are collected and
reported together, before any op runs. Running is a tight loop over the compiled
steps; an op's outputs are stored only after it returned, so an op that raises leaves
every blob as it was.
"""

from __future__ import annotations

import os
import sys
import warnings
from operator import itemgetter
from time import perf_counter
from typing import Any, Callable, Iterable, MutableMapping

import numpy as np

from caffe2lite.schema import registry
from caffe2lite.errors import (
    ArgumentError,
    BlobNotFoundError,
    Caffe2LiteError,
    EnforceError,
    NetCompileError,
    NetError,
    SchemaError,
    UnknownArgumentWarning,
    UnknownOperatorError,
    did_you_mean,
)
from caffe2lite.schema.caffe2_ops import is_caffe2_operator
from caffe2lite.proto import caffe2_pb2
from caffe2lite.runtime.engines import engine_for
from caffe2lite.runtime.profile import ACTIVE, merged_hooks

Blobs = MutableMapping[str, Any]


def make_rng(device_option: caffe2_pb2.DeviceOption | None) -> np.random.Generator:
    """The generator of one operator instance: seeded from ``random_seed`` when the
    device option sets one, from the operating system otherwise."""
    if device_option is not None and device_option.HasField("random_seed"):
        return np.random.default_rng(device_option.random_seed)
    return np.random.default_rng()


class OutputBlobs:
    """What a kernel that declares an ``outputs`` parameter receives: its op's output
    blob names and, while the op runs in a workspace, the dict of that workspace's
    blobs (None when the kernel is called on its own).

    A kernel may look up its previous outputs there to write the new ones into their
    memory, as Caffe2 reuses an output tensor's memory from run to run; it does so
    only where nothing else can see that memory (the compiled dropout kernels check
    the reference counts) and before anything is written that could still fail. It
    never changes the dict: the runner stores the outputs the kernel returns."""

    __slots__ = ("blobs", "names")

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.blobs: Blobs | None = None


class CompiledOp:
    """One operator, ready to run: kernel, blob names and parsed keyword arguments."""

    __slots__ = ("index", "op", "schema", "kernel", "inputs", "outputs", "kwargs")

    def __init__(self, index: int | None, op: caffe2_pb2.OperatorDef, schema: Any,
                 kwargs: dict) -> None:
        self.index = index
        self.op = op
        self.schema = schema
        self.kernel = schema.kernel
        self.inputs = tuple(op.input)
        self.outputs = tuple(op.output)
        self.kwargs = kwargs

    def blob_names(self) -> dict[str, str]:
        """Schema input/output names -> this op's blob names (for error messages)."""
        names = {self.schema.input_name(i): b for i, b in enumerate(self.inputs)}
        names.update({self.schema.output_name(i): b for i, b in enumerate(self.outputs)})
        return names

    def fail(self, error: BaseException, blobs: Blobs, net_name: str | None) -> Caffe2LiteError:
        """Turn anything an op raised into a Caffe2LiteError that says where."""
        if not isinstance(error, Caffe2LiteError):
            empty = [b for b in self.inputs if blobs.get(b, 0) is None]
            if empty:
                error = EnforceError(
                    "input blob is empty: it was created but never fed",
                    blob=empty[0], expected="a tensor", found="an empty blob")
            else:
                wrapped = EnforceError(f"{type(error).__name__}: {error}")
                wrapped.enforce_file, wrapped.enforce_line = _kernel_site(
                    self.kernel, error, wrapped)
                error = wrapped
        return error.add_context(
            op_type=self.op.type, op_index=self.index, op_name=self.op.name,
            net_name=net_name, blob_names=self.blob_names())


_STRICT = [False]


def set_strict(strict: bool) -> None:
    """Strict mode: an argument an op's schema does not declare is an error when the
    op is created (by default it is a warning, :class:`UnknownArgumentWarning`)."""
    _STRICT[0] = bool(strict)


def is_strict() -> bool:
    return _STRICT[0]


def _where(op: caffe2_pb2.OperatorDef, index: int | None, net_name: str | None) -> str:
    where = f"op #{index} {op.type}" if index is not None else f"op {op.type}"
    if op.name:
        where += f" '{op.name}'"
    return where + (f" in net '{net_name}'" if net_name else "")


def unknown_argument_text(op_type: str, name: str, declared: Iterable[str]) -> str:
    """``argument 'raito' is not declared by Dropout; did you mean 'ratio'?`` (or the
    declared names when none is close)."""
    declared = list(declared)
    hint = did_you_mean(name, declared)
    if not hint:
        hint = ("; it declares " + ", ".join(f"'{d}'" for d in declared) if declared
                else "; it declares no arguments")
    return f"argument '{name}' is not declared by {op_type}{hint}"


def unknown_operator(op: caffe2_pb2.OperatorDef, error: Caffe2LiteError) -> Caffe2LiteError:
    """The registry's error for an unregistered type, or, for a type Caffe2 had,
    that caffe2lite does not implement it (no did-you-mean: the name is right)."""
    if is_caffe2_operator(op.type):
        error = UnknownOperatorError(
            f"Caffe2 operator {op.type} is not implemented in caffe2lite",
            expected="an operator caffe2lite implements", found=repr(op.type))
        error.kind = "Caffe2 operators not implemented in caffe2lite"
        error.kind_name = op.type
    else:
        error.kind = "unknown operator types"
        hint = did_you_mean(op.type, registry.registered_types()).removeprefix("; ")
        error.kind_name = f"{op.type} ({hint})" if hint else op.type
    return error


_PACKAGE_DIRS = tuple(os.path.dirname(os.path.dirname(m.__file__)) + os.sep
                      for m in (registry,) if m.__file__)


def _warn(message: str, category: type[Warning]) -> None:
    """Warn from the first frame outside caffe2lite (the user's call)."""
    frame, level = sys._getframe(1), 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def compile_op(
    op: caffe2_pb2.OperatorDef,
    index: int | None = None,
    net_device_option: caffe2_pb2.DeviceOption | None = None,
    net_name: str | None = None,
) -> tuple[CompiledOp | None, list[Caffe2LiteError]]:
    """Resolve, verify and parse one OperatorDef. Returns the step or its problems.

    An argument the op's schema does not declare is a warning
    (:class:`UnknownArgumentWarning`), or a problem in strict mode; gradient ops
    (``is_gradient_op`` set) are not checked, since they carry their forward op's
    arguments."""
    try:
        schema = registry.lookup(op.type, engine_for(op))
    except UnknownOperatorError as e:
        return None, [unknown_operator(op, e)]
    except Caffe2LiteError as e:
        return None, [e]
    problems: list[Caffe2LiteError] = list(schema.verify(op))
    kwargs, arg_problems = schema.parse_args(op)
    problems.extend(arg_problems)
    # Gradient ops carry the forward op's arguments (Caffe2's makers copied them and
    # each gradient kernel read the ones it needed), so only forward ops are checked.
    check_args = bool(op.arg) and not op.is_gradient_op
    for name in schema.unknown_args(op) if check_args else ():
        text = unknown_argument_text(op.type, name, schema.args)
        if _STRICT[0]:
            problem = ArgumentError(text, arg=name)
            problem.kind, problem.kind_name = "unknown arguments", f"{op.type}.{name}"
            problems.append(problem)
        else:
            _warn(f"{_where(op, index, net_name)}: {text}", UnknownArgumentWarning)
    device_option = op.device_option if op.HasField("device_option") else net_device_option
    if device_option is not None and device_option.node_name:
        problems.append(SchemaError(
            "node_name must be empty for all operators at execution time.",
            expected="an empty node_name", found=repr(device_option.node_name)))
    if problems:
        return None, problems
    if schema.needs_rng:
        kwargs["rng"] = make_rng(device_option)
    if schema.wants_num_outputs:
        kwargs["num_outputs"] = len(op.output)
    if schema.wants_op_def:
        kwargs["op_def"] = op
    if schema.wants_state:
        kwargs["state"] = {}
    if schema.wants_outputs:
        kwargs["outputs"] = OutputBlobs(tuple(op.output))
    return CompiledOp(index, op, schema, kwargs), []


def _located(problems: list[Caffe2LiteError], op: caffe2_pb2.OperatorDef, index: int | None,
             net_name: str | None) -> list[Caffe2LiteError]:
    for p in problems:
        p.add_context(op_type=op.type, op_index=index, op_name=op.name, net_name=net_name)
    return problems


def raise_problems(problems: list[Caffe2LiteError], what: str) -> None:
    """Raise one problem as itself, several as a NetCompileError listing them all."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise NetCompileError(what, problems)


class CompiledNet:
    """A NetDef compiled against a workspace; keeps its ops' generators across runs."""

    def __init__(self, netdef: caffe2_pb2.NetDef, existing: Iterable[str] = ()) -> None:
        self.proto = netdef
        self.name = netdef.name
        net_option = netdef.device_option if netdef.HasField("device_option") else None
        existing = set(existing)
        # Caffe2's NetBase: once a net declares any external input, every op input
        # must be declared or made by an earlier op. Then each op's inputs must exist
        # (in the workspace, or as an earlier op's output) when it is created.
        declared = set(netdef.external_input)
        produced: set[str] = set()
        problems: list[Caffe2LiteError] = []
        self.ops: list[CompiledOp] = []
        for index, op in enumerate(netdef.op):
            step, op_problems = compile_op(op, index, net_option, self.name)
            for blob in dict.fromkeys(op.input):
                if declared and blob not in declared and blob not in produced:
                    problem: Caffe2LiteError = NetError(
                        f"Source for input {blob} is unknown for net {self.name}",
                        blob=blob, expected="a declared external input or an earlier "
                        "op's output", found=f"'{blob}' is neither")
                    problem.kind = "inputs neither declared nor made by an earlier op"
                    problem.kind_name = blob
                    op_problems.append(problem)
                elif blob not in existing and blob not in produced:
                    problem = missing_input(blob, existing | produced)
                    problem.kind, problem.kind_name = "missing inputs", blob
                    op_problems.append(problem)
            problems.extend(_located(op_problems, op, index, self.name))
            produced.update(op.output)
            if step is not None:
                self.ops.append(step)
        declared = set(netdef.external_input) | produced
        missing = [b for b in netdef.external_output if b not in declared]
        if missing:
            problems.append(BlobNotFoundError(
                "Some of the blobs are declared as output but never produced by the net "
                f"{self.name}, the first one is {missing[0]}", blob=missing[0]))
        raise_problems(problems, f"net '{self.name}'")
        self._steps = [(s.kernel, _fetcher(s.inputs), s.outputs, s.kwargs,
                        len(s.outputs), i) for i, s in enumerate(self.ops)]
        # The tight loop's form of each step: kernels without keyword arguments are
        # called without an (empty) ** dict, and one-input ones with their input
        # itself rather than a one-tuple to unpack (``how`` 2 and 1; 0: the full
        # call, which kernels with arguments, such as the in-place ones, always get).
        self._fast_steps = [
            (s.kernel, _fetcher(s.inputs) if s.kwargs or len(s.inputs) != 1
             else itemgetter(s.inputs[0]), s.outputs, s.kwargs, len(s.outputs), i,
             0 if s.kwargs else 2 if len(s.inputs) == 1 else 1)
            for i, s in enumerate(self.ops)]
        self._output_blobs = [s.kwargs["outputs"] for s in self.ops
                              if s.schema.wants_outputs]

    def run(self, blobs: Blobs, num_iter: int = 1, hooks: list | None = None) -> None:
        """Run every op in order, ``num_iter`` times, reading and writing ``blobs``.

        With ``hooks`` (callables of a :class:`caffe2lite.runtime.profile.OpRun`),
        each op is timed and every hook called after it ran; without, the tight
        loop below runs unchanged."""
        if hooks or ACTIVE:  # profilers entered as context managers see every run
            return self._run_hooked(blobs, num_iter, merged_hooks(hooks or ()))
        steps, tuple_ = self._fast_steps, tuple
        if self._output_blobs:
            for output_blobs in self._output_blobs:
                output_blobs.blobs = blobs
        for _ in range(num_iter):
            i = 0
            try:
                for kernel, fetch, outs, kw, n, i, how in steps:
                    if how == 0:
                        res = kernel(*fetch(blobs), **kw)
                    elif how == 2:
                        res = kernel(fetch(blobs))
                    else:
                        res = kernel(*fetch(blobs))
                    if type(res) is not tuple_ or len(res) < n:
                        raise _bad_result(res, n)
                    if n == 1:
                        blobs[outs[0]] = res[0]
                    else:
                        for name, value in zip(outs, res):
                            blobs[name] = value
                    # Drop the loop's own reference to the outputs: the next op may
                    # update one of them in place only when the workspace alone
                    # holds it (the sparse updates check the reference count).
                    res = None
            except KeyError as e:
                raise self._missing(i, e, blobs) from None
            except Exception as e:
                err = self.ops[i].fail(e, blobs, self.name)
                raise err from (None if err is e else e)

    def _run_hooked(self, blobs: Blobs, num_iter: int, hooks: list) -> None:
        """The loop of :meth:`run` with every op timed and reported to ``hooks``."""
        from caffe2lite.runtime.profile import OpRun

        for output_blobs in self._output_blobs:
            output_blobs.blobs = blobs
        ops, name = self.ops, self.name
        for it in range(num_iter):
            i = 0
            try:
                for kernel, fetch, outs, kw, n, i in self._steps:
                    args = fetch(blobs)
                    start = perf_counter()
                    res = kernel(*args, **kw)
                    end = perf_counter()
                    if type(res) is not tuple or len(res) < n:
                        raise _bad_result(res, n)
                    for out, value in zip(outs, res):
                        blobs[out] = value
                    run = OpRun(i, ops[i].op, name, it, args, res[:n], start, end)
                    for hook in hooks:
                        hook(run)
            except KeyError as e:
                raise self._missing(i, e, blobs) from None
            except Exception as e:
                err = self.ops[i].fail(e, blobs, self.name)
                raise err from (None if err is e else e)

    def _missing(self, i: int, e: KeyError, blobs: Blobs) -> Caffe2LiteError:
        step = self.ops[i]
        missing = [b for b in step.inputs if b not in blobs]
        if not missing:  # a KeyError from inside the kernel
            return step.fail(e, blobs, self.name)
        return missing_input(missing[0], blobs).add_context(
            op_type=step.op.type, op_index=i, op_name=step.op.name, net_name=self.name)


def _kernel_site(kernel: Any, error: BaseException, wrapped: EnforceError) -> tuple[str, int]:
    """Where inside the kernel's module a foreign exception came from (the last frame
    of its traceback in that file), named as enforce failures are."""
    code = getattr(kernel, "__code__", None)
    site = (wrapped.enforce_file, wrapped.enforce_line)
    if code is None:
        return site
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == code.co_filename:
            site = (_site_name(code.co_filename), tb.tb_lineno)
        tb = tb.tb_next
    return site


def _site_name(path: str) -> str:
    import os

    base = os.path.splitext(os.path.basename(path))[0]
    if os.sep + "ops" + os.sep in path:
        return f"{base.lstrip('_')}_op.cc"
    return os.path.basename(path)


def _fetcher(names: tuple[str, ...]) -> Callable[[Blobs], tuple]:
    """A function of the blob dict that gives the values of ``names`` as a tuple (one
    C call for two or more names; a missing one raises KeyError)."""
    if len(names) >= 2:
        return itemgetter(*names)
    if names:
        name = names[0]
        return lambda blobs: (blobs[name],)
    return lambda blobs: ()


def missing_input(blob: str, known: Iterable[str]) -> BlobNotFoundError:
    """Caffe2's message for an input blob that does not exist, with close names."""
    return BlobNotFoundError(f"Encountered a non-existing input blob: {blob}"
                             + did_you_mean(blob, known), blob=blob)


def _bad_result(res: Any, n: int) -> Caffe2LiteError:
    found = f"{type(res).__name__} of length {len(res)}" if isinstance(res, tuple) else type(res).__name__
    return EnforceError("kernel returned the wrong outputs", expected=f"a tuple of {n} outputs",
                        found=found)


def run_operator_once(op: caffe2_pb2.OperatorDef, blobs: Blobs) -> None:
    """Create ``op`` (a fresh generator each call), check its inputs exist, run it once."""
    step, problems = compile_op(op)
    for blob in dict.fromkeys(op.input):
        if blob not in blobs:
            problems.append(missing_input(blob, blobs))
    raise_problems(_located(problems, op, None, None), f"op {op.type}")
    assert step is not None
    if step.schema.wants_outputs:
        step.kwargs["outputs"].blobs = blobs
    try:
        res = step.kernel(*[blobs[n] for n in step.inputs], **step.kwargs)
        if type(res) is not tuple or len(res) < len(step.outputs):
            raise _bad_result(res, len(step.outputs))
    except Exception as e:
        err = step.fail(e, blobs, None)
        raise err from (None if err is e else e)
    for name, value in zip(step.outputs, res):
        blobs[name] = value
