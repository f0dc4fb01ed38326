"""The operator registry and the gradient registry: two plain dicts and their decorators.

``OPERATORS`` maps ``(op_type, engine)`` to an :class:`~caffe2lite.schema.OpSchema`;
the default engine is ``""``. ``GRADIENTS`` maps an op type to its gradient decision:
a maker, or one of Caffe2's three refusals. Turning decisions into a backward pass is
the job of :mod:`caffe2lite.gradient`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from caffe2lite.errors import RegistrationError, UnknownOperatorError, did_you_mean
from caffe2lite.schema.opschema import Arg, OpSchema, make_schema

OPERATORS: dict[tuple[str, str], OpSchema] = {}
GRADIENTS: dict[str, "GradientEntry"] = {}

# The kinds of gradient decision.
MAKER = "maker"
NO_GRADIENT = "no_gradient"
SHOULD_NOT_DO = "should_not_do_gradient"
NOT_IMPLEMENTED_YET = "gradient_not_implemented_yet"


def register_cpu_operator(
    op_type: str,
    *,
    inputs: Sequence[str] = (),
    outputs: Sequence[str] = (),
    args: Sequence[Arg] = (),
    doc: str = "",
    engine: str | None = None,
    num_inputs: int | tuple[int, int | None] | None = None,
    num_outputs: int | tuple[int, int | None] | str | None = None,
    allow_inplace: Any = (),
    enforce_inplace: Any = (),
    allowed_inputs: Any = None,
    shape: Callable[..., Any] | None = None,
    cost: Callable[..., Any] | None = None,
    example: Any = None,
) -> Callable[[Callable[..., tuple]], Callable[..., tuple]]:
    """Register a pure kernel as the CPU implementation of ``op_type``.

    The kernel takes the input arrays positionally (in ``inputs`` order; ``*args`` for
    a variable count), the ``args`` as keyword-only parameters (defaults already
    applied), optionally ``rng`` (a ``numpy.random.Generator`` owned by the operator
    instance) and ``num_outputs``, and returns a tuple of outputs. ``num_outputs``
    may be ``"same"`` (as many outputs as inputs, Caffe2's SameNumberOfOutput).
    ``allow_inplace`` is ``True``, ``"one_to_one"``, a list of ``(input, output)``
    index pairs or a predicate; ``enforce_inplace`` is a list of pairs.
    ``allowed_inputs`` narrows the input count further: a set of counts, or a pair
    ``(predicate, description)`` (Caffe2's NumInputs(set) / NumInputs(function));
    a count it rejects fails with "Input size N not in allowed input sizes.".
    ``shape`` is the op's shape/type function and ``cost`` its cost function (see
    :mod:`caffe2lite.schema.shapes`); ``example`` its worked example as data
    (:class:`~caffe2lite.schema.example.Example`), rendered into the doc when the
    doc has no ``Example:`` line.

    >>> @register_cpu_operator("DoubleIt", inputs=["X"], outputs=["Y"],
    ...                        doc="Y = 2 * X. Example: X=[1, 2] -> Y=[2, 4]")
    ... def double_it(x):
    ...     return (x * 2,)
    >>> lookup("DoubleIt").num_inputs
    (1, 1)
    >>> del OPERATORS[("DoubleIt", "")]
    """
    eng = engine or ""

    def decorate(kernel: Callable[..., tuple]) -> Callable[..., tuple]:
        if (op_type, eng) in OPERATORS:
            raise RegistrationError(f"operator {op_type} (engine '{eng}') is registered twice")
        OPERATORS[(op_type, eng)] = make_schema(
            op_type, kernel, inputs=inputs, outputs=outputs, args=args, doc=doc,
            engine=eng, num_inputs=num_inputs, num_outputs=num_outputs,
            allow_inplace=allow_inplace, enforce_inplace=enforce_inplace,
            allowed_inputs=allowed_inputs, shape=shape, cost=cost, example=example,
        )
        return kernel

    return decorate


def lookup(op_type: str, engine: str = "") -> OpSchema:
    """The schema for ``(op_type, engine)``, falling back to the default engine."""
    schema = OPERATORS.get((op_type, engine or ""))
    if schema is None and engine:
        schema = OPERATORS.get((op_type, ""))
    if schema is None:
        raise UnknownOperatorError(
            f"Cannot create operator of type '{op_type}' on the device 'CPU': "
            f"no operator of that type is registered{did_you_mean(op_type, registered_types())}",
            expected="a registered operator type", found=repr(op_type))
    return schema


def find(op_type: str, engine: str = "") -> OpSchema | None:
    """Like :func:`lookup` but ``None`` when nothing is registered."""
    return OPERATORS.get((op_type, engine or "")) or OPERATORS.get((op_type, ""))


def registered_types() -> list[str]:
    """Every registered operator type, sorted, each once."""
    return sorted({t for t, _ in OPERATORS})


@dataclass(frozen=True)
class GradientEntry:
    """A gradient decision for one op type.

    ``maker(ctx) -> list[OperatorDef]`` receives a context with Caffe2's helpers
    (``I, O, GI, GI_I, GI_V, GO, GO_I, GO_V, SetDense, SetSparse``); the three
    ``copy_*`` switches say what the backward pass copies from the forward op.
    """

    kind: str
    maker: Callable[..., Any] | None = None
    copy_device_option: bool = True
    copy_engine: bool = True
    copy_arguments: bool = True


def _set(op_type: str, entry: GradientEntry) -> None:
    if op_type in GRADIENTS:
        raise RegistrationError(f"gradient of operator {op_type} is registered twice")
    GRADIENTS[op_type] = entry


def register_gradient(
    op_type: str,
    *,
    copy_device_option: bool = True,
    copy_engine: bool = True,
    copy_arguments: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``maker(ctx) -> list[OperatorDef]`` as the gradient of ``op_type``."""

    def decorate(maker: Callable[..., Any]) -> Callable[..., Any]:
        _set(op_type, GradientEntry(MAKER, maker, copy_device_option, copy_engine, copy_arguments))
        return maker

    return decorate


def no_gradient(op_type: str) -> None:
    """Gradients stop at ``op_type``: no ops, no input gradients, no error."""
    _set(op_type, GradientEntry(NO_GRADIENT))


def should_not_do_gradient(op_type: str) -> None:
    """Asking for ``op_type``'s gradient is an error (only if a gradient reaches it)."""
    _set(op_type, GradientEntry(SHOULD_NOT_DO))


def gradient_not_implemented_yet(op_type: str) -> None:
    """``op_type`` should have a gradient but has none yet: asking for it is an error."""
    _set(op_type, GradientEntry(NOT_IMPLEMENTED_YET))


def gradient_entry(op_type: str) -> GradientEntry | None:
    """The gradient decision for ``op_type``, or ``None`` when none was registered."""
    return GRADIENTS.get(op_type)
