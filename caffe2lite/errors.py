"""The one exception hierarchy of caffe2lite.

Every error caffe2lite raises on bad input is a :class:`Caffe2LiteError`. It derives
from :class:`RuntimeError` because Caffe2 surfaced its enforce failures to Python as
``RuntimeError``; code written for Caffe2 that catches ``RuntimeError`` keeps working.
Subclasses that correspond to a different Python exception in Caffe2 also derive from
it (``AttributeError`` for an unknown ``net.Op``, ``ValueError`` for an orphan
``StopGradient``, ``TypeError`` for a bad blob name type).

An error carries structured fields (``op_type``, ``op_index``, ``blob``, ``arg``,
``expected``, ``found``) besides its message. Kernels raise errors that name the
schema's input or argument; the executor then adds where it happened (net, op index,
op type and name) with :meth:`Caffe2LiteError.add_context`.
"""

from __future__ import annotations

import difflib
import os
import sys
from types import FrameType
from typing import Any, Iterable


class Caffe2LiteError(RuntimeError):
    """Base class of every caffe2lite error.

    >>> str(Caffe2LiteError("Ratio should be a valid probability", arg="ratio",
    ...                     expected="0 <= ratio <= 1", found=1.5))
    "Ratio should be a valid probability (argument 'ratio': expected 0 <= ratio <= 1, found 1.5)"
    """

    # When many problems are reported together they are grouped by ``kind`` (None: by
    # message), each named by ``kind_name`` (see :func:`group_problems`).
    kind: str | None = None
    kind_name: str = ""

    def __init__(
        self,
        message: str,
        *,
        blob: str | None = None,
        arg: str | None = None,
        expected: Any = None,
        found: Any = None,
    ) -> None:
        self.reason = message
        self.blob = blob
        self.arg = arg
        self.expected = expected
        self.found = found
        self.context: str | None = None
        self.op_type: str | None = None
        self.op_index: int | None = None
        self.net_name: str | None = None
        super().__init__(message)

    def detail(self) -> str:
        """The message without its location prefix."""
        parts = []
        if self.blob is not None:
            parts.append(f"blob '{self.blob}'")
        if self.arg is not None:
            parts.append(f"argument '{self.arg}'")
        facts = []
        if self.expected is not None:
            facts.append(f"expected {self.expected}")
        if self.found is not None:
            facts.append(f"found {self.found}")
        if not parts and not facts:
            return self.reason
        head = " ".join(parts)
        tail = ", ".join(facts)
        inner = f"{head}: {tail}" if head and tail else head or tail
        return f"{self.reason} ({inner})"

    def __str__(self) -> str:
        if self.context:
            return f"{self.context}: {self.detail()}"
        return self.detail()

    def add_context(
        self,
        *,
        op_type: str | None = None,
        op_index: int | None = None,
        op_name: str | None = None,
        net_name: str | None = None,
        blob_names: dict[str, str] | None = None,
    ) -> "Caffe2LiteError":
        """Say where the error happened; the innermost context wins.

        ``blob_names`` maps schema input/output names (``"Lengths"``) to the blob
        names of this op (``"lengths_0"``), so a kernel's error names the real blob.
        """
        if self.context is not None:
            return self
        if blob_names and self.blob in blob_names:
            real = blob_names[self.blob]
            if real != self.blob:
                self.blob = f"{self.blob}={real}"
        self.op_type, self.op_index, self.net_name = op_type, op_index, net_name
        where = []
        if op_type is not None:
            op = f"op #{op_index} {op_type}" if op_index is not None else f"op {op_type}"
            if op_name:
                op += f" '{op_name}'"
            where.append(op)
        if net_name:
            where.append(f"net '{net_name}'")
        self.context = " in ".join(where) if where else None
        self.args = (str(self),)
        return self


class ProtoParseError(Caffe2LiteError):
    """A file or byte string could not be read as the expected protobuf message."""


class SchemaError(Caffe2LiteError):
    """An OperatorDef does not fit its operator's schema (counts, arguments, in-place)."""


class ArgumentError(SchemaError):
    """An argument is missing, of the wrong field, or out of its allowed range."""


class RegistrationError(Caffe2LiteError):
    """An operator or gradient was registered inconsistently (a bug in an op file)."""


class UnknownOperatorError(Caffe2LiteError):
    """No operator is registered under this type (and engine)."""


class OperatorAttributeError(UnknownOperatorError, AttributeError):
    """``net.Foo(...)`` for an op type that is not registered (AttributeError in Caffe2)."""


class BlobNotFoundError(Caffe2LiteError):
    """A blob an operation needs is not in the workspace."""


# Frames in these files are helpers that raise for someone else; the site of an
# enforce failure is the first frame outside them.
_HELPER_SUFFIXES = (
    os.path.join("caffe2lite", "errors.py"),
    os.path.join("caffe2lite", "schema", "checks.py"),
    os.path.join("ops", "_dense.py"),
)


def enforce_site(skip: int = 1) -> tuple[str, int]:
    """Where an enforce failure happened, as Caffe2 named it: ``(file, line)``.

    Inside an operator module (``ops/<family>/<name>.py``) the file is Caffe2's
    source-file spelling ``<name>_op.cc`` and the line is the line of the raise in
    that module (stable for a given caffe2lite version); elsewhere the Python file's
    own name and line."""
    frame: FrameType | None = sys._getframe(skip)
    while frame is not None and frame.f_code.co_filename.endswith(_HELPER_SUFFIXES):
        frame = frame.f_back
    if frame is None:
        return "caffe2lite", 0
    path = frame.f_code.co_filename
    base = os.path.splitext(os.path.basename(path))[0]
    parent = os.path.basename(os.path.dirname(os.path.dirname(path)))
    if parent == "ops" or os.sep + "ops" + os.sep in path:
        return f"{base.lstrip('_')}_op.cc", frame.f_lineno
    return os.path.basename(path), frame.f_lineno


class EnforceError(Caffe2LiteError):
    """A data-dependent check failed while an operator ran (Caffe2's CAFFE_ENFORCE).

    Its message starts as Caffe2's did, ``[enforce fail at <file>:<line>] `` then,
    when the raiser states it (``condition=``), the condition that failed and a
    period; the usual caffe2lite message follows unchanged. Code that looks for
    ``enforce fail`` finds it. See :func:`enforce_site` for the file and line.

    >>> e = EnforceError("Inconsistent input data.", condition="sum(lengths) == 4")
    >>> str(e).startswith("[enforce fail at "), str(e).split("] ", 1)[1]
    (True, 'sum(lengths) == 4. Inconsistent input data.')
    """

    def __init__(self, message: str, *, condition: str | None = None, **fields: Any) -> None:
        self.enforce_file, self.enforce_line = enforce_site(2)
        self.condition = condition
        super().__init__(message, **fields)
        self.args = (str(self),)

    def enforce_prefix(self) -> str:
        """``[enforce fail at <file>:<line>] `` plus ``<condition>. `` when known."""
        head = f"[enforce fail at {self.enforce_file}:{self.enforce_line}] "
        return head if self.condition is None else f"{head}{self.condition}. "

    def __str__(self) -> str:
        return self.enforce_prefix() + super().__str__()

    def __reduce__(self) -> tuple:
        # Rebuild from the fields, not from str(self): the prefix must not double.
        return (_restore_error, (type(self), dict(self.__dict__), self.args))


def _restore_error(cls: type[Caffe2LiteError], state: dict, args: tuple) -> Caffe2LiteError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = args
    return error


class DTypeError(EnforceError):
    """A tensor has the wrong element type for an operator."""


class ShapeError(EnforceError):
    """A tensor has the wrong rank or shape for an operator."""


class NetError(Caffe2LiteError):
    """A net could not be created or found, or one of its runs failed."""


class NetCompileError(NetError):
    """A net has one or more problems found before any of its ops ran.

    ``problems`` lists each problem as its own :class:`Caffe2LiteError`. Up to
    :data:`MAX_LISTED_PROBLEMS` problems are listed one a line; more are grouped, one
    line per kind of problem with its count and the first names
    (:func:`group_problems`), and :meth:`full` lists them all.
    """

    def __init__(self, what: str, problems: list[Caffe2LiteError]) -> None:
        self.problems = problems
        self.what = what
        super().__init__(self.summary())

    def _head(self) -> str:
        n = len(self.problems)
        return f"{self.what} has {n} {'problem' if n == 1 else 'problems'}:"

    def full(self) -> str:
        """Every problem, one a line."""
        return "\n".join([self._head()] + [f"  - {p}" for p in self.problems])

    def summary(self) -> str:
        """Every problem when there are few; else one line per kind of problem."""
        if len(self.problems) <= MAX_LISTED_PROBLEMS:
            return self.full()
        return "\n".join([self._head()] + [f"  - {line}" for line in
                                             group_problems(self.problems)])


class UnknownArgumentWarning(UserWarning):
    """An OperatorDef sets an argument its operator's schema does not declare (a
    misspelt ``raito`` is otherwise silently ignored and the default used).
    ``workspace.SetStrict(True)`` (``caffe2lite run --strict``) makes it an error."""


MAX_LISTED_PROBLEMS = 8  # more problems than this are grouped by kind
MAX_NAMES = 5  # names shown on one grouped line


def problem_kind(problem: Caffe2LiteError) -> tuple[str, str]:
    """``(kind, name)``: what sort of problem it is (problems of one kind share a
    line when grouped) and the name that tells it from the others of its kind."""
    if problem.kind is not None:
        return problem.kind, problem.kind_name
    where = problem.op_type or ""
    if problem.op_index is not None:
        where = f"#{problem.op_index} {where}"
    return problem.reason, where


def _names(names: list[str]) -> str:
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    shown = [f"{n} (x{c})" if c > 1 else n for n, c in list(counts.items())[:MAX_NAMES]]
    rest = len(counts) - MAX_NAMES
    return ", ".join(shown) + (f", ... and {rest} more" if rest > 0 else "")


def group_problems(problems: list[Caffe2LiteError]) -> list[str]:
    """One line per kind of problem, in order of first appearance: the kind, the
    count and the first names (a name seen several times shows ``(xN)``).

    >>> a = BlobNotFoundError("missing"); a.kind, a.kind_name = "missing inputs", "x"
    >>> b = BlobNotFoundError("missing"); b.kind, b.kind_name = "missing inputs", "y"
    >>> group_problems([a, b])
    ['missing inputs (2): x, y']
    """
    groups: dict[str, list[str]] = {}
    for p in problems:
        kind, name = problem_kind(p)
        groups.setdefault(kind, []).append(name)
    # Op types that do not exist come first: no input can make such a net run.
    order = sorted(groups, key=lambda k: k not in _OP_TYPE_KINDS)
    return [f"{kind} ({len(groups[kind])}): {_names([n for n in groups[kind] if n])}"
            if any(groups[kind]) else f"{kind} ({len(groups[kind])})" for kind in order]


_OP_TYPE_KINDS = ("Caffe2 operators not implemented in caffe2lite", "unknown operator types")


class GradientError(Caffe2LiteError):
    """A backward pass could not be built."""


class GradientValueError(GradientError, ValueError):
    """A backward-pass error that Caffe2 raised as ValueError."""


class BlobTypeError(Caffe2LiteError, TypeError):
    """A blob name or blob value has a type that cannot be used (TypeError in Caffe2)."""


class ApiValueError(Caffe2LiteError, ValueError):
    """A Python API call got a value it cannot use (ValueError in Caffe2)."""


class ApiTypeError(Caffe2LiteError, TypeError):
    """A Python API call got an argument of a type it cannot take (TypeError in
    Caffe2, where the C++ binding refused it)."""


def did_you_mean(name: str, known: Iterable[str], n: int = 3) -> str:
    """Return ``"; did you mean 'x'?"`` (or ``''``) for the closest known names.

    >>> did_you_mean("LengthSum", ["LengthsSum", "LengthsMean"])
    "; did you mean 'LengthsSum' or 'LengthsMean'?"
    """
    close = difflib.get_close_matches(name, list(known), n=n, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    if not close:
        return ""
    return "; did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
