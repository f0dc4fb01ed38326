"""Operator schemas: what an OperatorDef of a type must look like.

An :class:`OpSchema` is built once, at registration, from the arguments of
``register_cpu_operator``; :meth:`OpSchema.verify` checks an OperatorDef against it
(Caffe2's ``OpSchema::Verify``) and :meth:`OpSchema.parse_args` turns the def's
Arguments into the keyword arguments of the kernel, defaults applied.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, cast

from caffe2lite.io.arguments import normalize_arg_type, typed_value
from caffe2lite.errors import ArgumentError, SchemaError
from caffe2lite.proto import caffe2_pb2


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
INT_MAX = sys.maxsize


@dataclass(frozen=True)
class Arg:
    """One operator argument: name, type, default (``REQUIRED`` if none), and an
    optional ``check(value) -> bool`` with the message Caffe2 gave when it fails.

    >>> Arg("ratio", float, 0.0).type
    'float'
    """

    name: str
    type: Any
    default: Any = REQUIRED
    doc: str = ""
    check: Callable[[Any], bool] | None = None
    check_message: str = ""
    expected: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", normalize_arg_type(self.type))


def _range(value: int | tuple[int, int | None] | None, default: tuple[int, int]) -> tuple[int, int]:
    if value is None:
        return default
    if isinstance(value, int):
        return (value, value)
    lo, hi = value
    return (lo, INT_MAX if hi is None else hi)


InplaceRule = Callable[[int, int], bool]


def _inplace_rule(spec: Any) -> InplaceRule:
    if spec is True:
        return lambda i, o: True
    if not spec:
        return lambda i, o: False
    if callable(spec):
        return spec
    if spec == "one_to_one":
        return lambda i, o: i == o
    pairs = frozenset(tuple(p) for p in spec)
    return lambda i, o: (i, o) in pairs


@dataclass
class OpSchema:
    """The contract of one operator type (and engine)."""

    type: str
    kernel: Callable[..., tuple]
    inputs: Sequence[str] = ()
    outputs: Sequence[str] = ()
    args: dict[str, Arg] = field(default_factory=dict)
    doc: str = ""
    engine: str = ""
    num_inputs: tuple[int, int] = (0, 0)
    num_outputs: tuple[int, int] = (0, 0)
    same_number_of_output: bool = False
    allow_inplace: InplaceRule = field(default=lambda i, o: False)
    enforce_inplace: frozenset = frozenset()
    needs_rng: bool = False
    wants_num_outputs: bool = False
    wants_op_def: bool = False
    wants_state: bool = False
    wants_outputs: bool = False
    allowed_inputs: Callable[[int], bool] | None = None
    allowed_inputs_doc: str = ""
    shape: Callable[..., Any] | None = None
    shape_params: frozenset | None = None  # the keyword parameters it takes (None: all)
    cost: Callable[..., Any] | None = None
    cost_params: frozenset | None = None
    example: Any = None

    def input_name(self, i: int) -> str:
        """The schema name of input ``i`` (the last name repeats for variadic ops)."""
        if not self.inputs:
            return f"input {i}"
        return self.inputs[min(i, len(self.inputs) - 1)]

    def output_name(self, i: int) -> str:
        if not self.outputs:
            return f"output {i}"
        return self.outputs[min(i, len(self.outputs) - 1)]

    def verify(self, op: caffe2_pb2.OperatorDef) -> list[SchemaError]:
        """Every way ``op`` breaks this schema (empty when it fits)."""
        problems: list[SchemaError] = []
        n_in, n_out = len(op.input), len(op.output)
        lo, hi = self.num_inputs
        if not lo <= n_in <= hi:
            problems.append(SchemaError(
                f"Input size {n_in} not in range [min={lo}, max={_fmt(hi)}].",
                expected=f"{_span(lo, hi)} inputs", found=n_in))
        elif self.allowed_inputs is not None and not self.allowed_inputs(n_in):
            problems.append(SchemaError(
                f"Input size {n_in} not in allowed input sizes.",
                expected=self.allowed_inputs_doc, found=n_in))
        if self.same_number_of_output:
            if n_out != n_in:
                problems.append(SchemaError(
                    f"Output size {n_out} not matching expected output size, which is {n_in}",
                    expected=f"{n_in} outputs", found=n_out))
        else:
            lo, hi = self.num_outputs
            if not lo <= n_out <= hi:
                problems.append(SchemaError(
                    f"Output size {n_out} not in range [min={lo}, max={_fmt(hi)}].",
                    expected=f"{_span(lo, hi)} outputs", found=n_out))
        for i, name in enumerate(op.input):
            for o, out in enumerate(op.output):
                if name == out and not self.allow_inplace(i, o) and (i, o) not in self.enforce_inplace:
                    problems.append(SchemaError(
                        f"Input index {i} and output idx {o} ({out}) are set to be in-place "
                        f"but this is actually not supported by op {self.type}", blob=out))
        for i, o in sorted(self.enforce_inplace):
            if i < n_in and o < n_out and op.input[i] != op.output[o]:
                problems.append(SchemaError(
                    f"Input index {i} ({op.input[i]}) and output idx {o} ({op.output[o]}) "
                    f"are not in-place but should be as required by op {self.type}",
                    blob=op.output[o], expected=f"output {o} == input {i} '{op.input[i]}'",
                    found=f"'{op.output[o]}'"))
        return problems

    def parse_args(self, op: caffe2_pb2.OperatorDef) -> tuple[dict[str, Any], list[ArgumentError]]:
        """The kernel's keyword arguments, defaults applied, and any argument problems.

        Arguments the schema does not declare are ignored here, as Caffe2 ignored
        them; :meth:`unknown_args` names them (the executor warns about them).
        """
        given = {a.name: a for a in op.arg}
        kwargs: dict[str, Any] = {}
        problems: list[ArgumentError] = []
        for name, spec in self.args.items():
            if name not in given:
                if spec.default is REQUIRED:
                    problems.append(ArgumentError(
                        f"Argument '{name}' is required for Operator '{self.type}'.", arg=name))
                    continue
                kwargs[name] = spec.default
                continue
            try:
                value = typed_value(given[name], spec.type, self.type)
            except ArgumentError as e:
                problems.append(e)
                continue
            if spec.check is not None and not spec.check(value):
                problems.append(ArgumentError(
                    spec.check_message or f"Argument '{name}' has an invalid value",
                    arg=name, expected=spec.expected or None, found=value))
                continue
            kwargs[name] = value
        return kwargs, problems


    def unknown_args(self, op: caffe2_pb2.OperatorDef) -> list[str]:
        """The arguments ``op`` sets that this schema does not declare and that are
        not among :data:`GENERIC_ARGUMENTS`, in order, each once (Caffe2 ignored
        them; caffe2lite warns, or refuses them in strict mode)."""
        return [a for a in dict.fromkeys(arg.name for arg in op.arg)
                if a not in self.args and a not in GENERIC_ARGUMENTS]


# Arguments Caffe2's Python helpers set on operators whatever their type, which the
# CPU operators that do not read them ignored. brew copies the model's arg_scope
# (ModelHelper / CNNModelHelper: ``order``, ``use_cudnn``, ``cudnn_exhaustive_search``,
# ``ws_nbytes_limit``) into the keyword arguments of every helper that takes
# ``**kwargs``, so brew-made FC, Relu, Softmax ... ops carry them; the CUDNN conv
# reads ``exhaustive_search``, ``deterministic``, ``enable_tensor_core``,
# ``float16_compute`` and ``force_algo_*`` on any device; ``shard_id`` marks the
# shard of an op in a sharded net. Where an operator does read one of them (``order``
# for Conv, pooling, SpatialBN, Concat ...) its schema declares it and it is parsed
# and checked as usual; ``is_test`` is not generic: only the ops that read it take it.
GENERIC_ARGUMENTS = frozenset({
    "order", "use_cudnn", "cudnn_exhaustive_search", "exhaustive_search", "ws_nbytes_limit",
    "deterministic", "enable_tensor_core", "float16_compute", "force_algo_fwd",
    "force_algo_dgrad", "force_algo_wgrad", "shard_id",
})


def _fmt(n: int) -> str:
    return "INT_MAX" if n >= INT_MAX else str(n)


def _span(lo: int, hi: int) -> str:
    if lo == hi:
        return str(lo)
    if hi >= INT_MAX:
        return f"at least {lo}"
    return f"{lo} to {hi}"


# Keyword-only kernel parameters the executor fills in: the op instance's generator,
# its output count, its OperatorDef (for ops that report blob names, like Print), a
# dict that persists across runs of one op instance (for counters, like Print's every_n)
# and its output blobs (net.OutputBlobs, for ops that reuse their previous outputs'
# memory, like the sparse dropout ops).
_SPECIAL_KWARGS = ("rng", "num_outputs", "op_def", "state", "outputs")


@dataclass
class _KernelInfo:
    num_inputs: tuple[int, int]
    needs_rng: bool
    wants_num_outputs: bool
    wants_op_def: bool
    wants_state: bool
    wants_outputs: bool


def _check_kernel_signature(
    op_type: str,
    kernel: Callable[..., tuple],
    inputs: Sequence[str],
    args: Sequence[Arg],
    num_inputs: int | tuple[int, int | None] | None,
) -> _KernelInfo:
    """Positional parameters are the inputs, keyword-only ones the arguments."""
    from caffe2lite.errors import RegistrationError

    P = inspect.Parameter
    params = list(inspect.signature(kernel).parameters.values())
    positional = [p for p in params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    variadic = any(p.kind == P.VAR_POSITIONAL for p in params)
    keyword = {p.name for p in params if p.kind == P.KEYWORD_ONLY}
    required = sum(1 for p in positional if p.default is P.empty)
    derived = (required, INT_MAX if variadic else len(positional))
    in_range = _range(num_inputs, derived)

    def fail(why: str) -> RegistrationError:
        return RegistrationError(f"kernel {kernel.__qualname__} of operator {op_type}: {why}")

    if not variadic and len(positional) != len(inputs):
        raise fail(f"takes {len(positional)} positional inputs but the schema names "
                   f"{len(inputs)} ({list(inputs)})")
    if in_range[0] < required or (not variadic and in_range[1] > len(positional)):
        raise fail(f"cannot take between {in_range[0]} and {_fmt(in_range[1])} inputs")
    declared = {a.name for a in args}
    # A kernel with **kwargs takes every declared argument (ops that share a long
    # argument list, like convolution and pooling).
    takes_all = any(p.kind == P.VAR_KEYWORD for p in params)
    missing = set() if takes_all else declared - keyword
    extra = keyword - declared - set(_SPECIAL_KWARGS)
    if missing:
        raise fail(f"has no keyword-only parameter for arguments {sorted(missing)}")
    if extra:
        raise fail(f"keyword-only parameters {sorted(extra)} are not schema arguments")
    return _KernelInfo(in_range, "rng" in keyword, "num_outputs" in keyword,
                       "op_def" in keyword, "state" in keyword, "outputs" in keyword)


def make_schema(
    op_type: str,
    kernel: Callable[..., tuple],
    *,
    inputs: Sequence[str],
    outputs: Sequence[str],
    args: Sequence[Arg],
    doc: str,
    engine: str,
    num_inputs: int | tuple[int, int | None] | None,
    num_outputs: int | tuple[int, int | None] | str | None,
    allow_inplace: Any,
    enforce_inplace: Any,
    allowed_inputs: Any = None,
    shape: Callable[..., Any] | None = None,
    cost: Callable[..., Any] | None = None,
    example: Any = None,
) -> OpSchema:
    """Build a schema and check ``kernel``'s signature against it.

    ``allowed_inputs`` narrows the input count inside its range, as Caffe2's
    ``NumInputs(set)`` / ``NumInputs(function)``: a set of counts, or a pair
    ``(predicate, description)``."""
    allowed, allowed_doc = None, ""
    if isinstance(allowed_inputs, (set, frozenset)):
        counts = frozenset(allowed_inputs)
        allowed = counts.__contains__
        allowed_doc = "one of " + ", ".join(str(c) for c in sorted(counts)) + " inputs"
        if num_inputs is None:
            num_inputs = (min(counts), max(counts))
    elif allowed_inputs is not None:
        allowed, allowed_doc = allowed_inputs
    info = _check_kernel_signature(op_type, kernel, inputs, args, num_inputs)
    if example is not None and "Example:" not in doc:
        doc = doc.rstrip() + "\n\n" + example.render()
    same = num_outputs == "same"
    out_counts = cast("int | tuple[int, int | None] | None", None if same else num_outputs)
    out_range = _range(out_counts, (len(outputs), len(outputs)))
    return OpSchema(
        type=op_type,
        kernel=kernel,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        args={a.name: a for a in args},
        doc=doc,
        engine=engine,
        num_inputs=info.num_inputs,
        num_outputs=out_range,
        same_number_of_output=same,
        allow_inplace=_inplace_rule(allow_inplace),
        enforce_inplace=frozenset(tuple(p) for p in (enforce_inplace or ())),
        needs_rng=info.needs_rng,
        wants_num_outputs=info.wants_num_outputs,
        wants_op_def=info.wants_op_def,
        wants_state=info.wants_state,
        wants_outputs=info.wants_outputs,
        allowed_inputs=allowed,
        allowed_inputs_doc=allowed_doc,
        shape=shape,
        shape_params=_keyword_params(op_type, shape, args, "shape"),
        cost=cost,
        cost_params=_keyword_params(op_type, cost, args, "cost"),
        example=example,
    )


def _keyword_params(op_type: str, fn: Callable[..., Any] | None, args: Sequence[Arg],
                    what: str) -> frozenset | None:
    """The keyword-only parameters a shape or cost function takes (None: it takes
    ``**kwargs``, so it gets every argument); each must be a schema argument or one
    of ``num_outputs`` / ``outputs``."""
    from caffe2lite.errors import RegistrationError

    if fn is None:
        return frozenset()
    P = inspect.Parameter
    params = list(inspect.signature(fn).parameters.values())
    if any(p.kind == P.VAR_KEYWORD for p in params):
        return None
    keyword = frozenset(p.name for p in params if p.kind == P.KEYWORD_ONLY)
    extra = keyword - {a.name for a in args} - {"num_outputs", "outputs"}
    if extra:
        raise RegistrationError(
            f"{what} function {getattr(fn, '__qualname__', fn)} of operator {op_type}: "
            f"keyword-only parameters {sorted(extra)} are not schema arguments")
    return keyword
