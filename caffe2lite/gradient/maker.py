"""Gradient makers: the context a maker sees, and Caffe2's ``GetGradientForOp``.

A built-in maker (registered with :func:`caffe2lite.schema.registry.register_gradient`) is
called as ``maker(g)`` with a :class:`GradientContext` ``g`` for one forward
OperatorDef; it returns the gradient OperatorDefs and records, through ``g.GI`` and
friends, which blob holds the gradient of each forward input. This is Caffe2's C++
``GradientMakerBase``. :func:`builtin_gradient_for_op` wraps a maker the way
``GetGradientForOp`` in ``operator.cc`` did (schema check, copy of device option,
engine and arguments, sanity checks); :func:`get_gradient_for_op` then falls back to
the Python registry (``GradientRegistry.RegisterGradient``) as ``core.py`` did.
"""

from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from caffe2lite.schema import registry
from caffe2lite.io.arguments import argument_value, make_argument
from caffe2lite.errors import GradientError
from caffe2lite.proto import caffe2_pb2

GradientSlice = namedtuple("GradientSlice", ["indices", "values"])

# The Python registry: op type -> f(op, g_output) -> (ops, g_input).
PYTHON_GRADIENTS: dict[str, Callable[..., Any]] = {}

_log = logging.getLogger("caffe2lite.gradient")


class _Wrapper:
    """Caffe2's GradientWrapper: a dense name, or sparse indices and values names."""

    __slots__ = ("dense", "indices", "values")

    def __init__(self, dense: str = "", indices: str = "", values: str = "") -> None:
        self.dense, self.indices, self.values = dense, indices, values

    def is_dense(self) -> bool:
        return bool(self.dense)

    def is_sparse(self) -> bool:
        return bool(self.indices or self.values)

    @staticmethod
    def from_python(grad: Any) -> _Wrapper:
        if grad is None:
            return _Wrapper()
        if isinstance(grad, (tuple, list)):
            indices, values = grad
            return _Wrapper(indices=str(indices or ""), values=str(values or ""))
        return _Wrapper(dense=str(grad))

    def to_python(self) -> Any:
        if self.is_dense():
            return self.dense
        if self.is_sparse():
            return GradientSlice(self.indices, self.values)
        return None


class GradientContext:
    """What a gradient maker sees: Caffe2's ``GradientMakerBase`` helpers.

    >>> op = caffe2_pb2.OperatorDef(type="Relu", input=["X"], output=["Y"])
    >>> g = GradientContext(op, ["Y_grad"])
    >>> g.op_def("ReluGradient", [g.O(0), g.GO(0)], [g.GI(0)]).input
    ['Y', 'Y_grad']
    >>> g.g_input()
    ['X_grad']
    """

    def __init__(self, def_: caffe2_pb2.OperatorDef, g_output: Sequence[Any]) -> None:
        self.def_ = def_
        self._g_output = [_Wrapper.from_python(g) for g in g_output]
        self._g_input = [_Wrapper() for _ in def_.input]

    # -- forward names -------------------------------------------------------
    def _check(self, i: int, n: int, what: str) -> None:
        if not 0 <= i < n:
            raise GradientError(
                f"{what} index {i} is out of range for operator {self.def_.type}",
                expected=f"0 <= index < {n}",
                found=i,
            )

    def I(self, i: int) -> str:
        """The name of forward input ``i``."""
        self._check(i, len(self.def_.input), "Input")
        return self.def_.input[i]

    def O(self, i: int) -> str:
        """The name of forward output ``i``."""
        self._check(i, len(self.def_.output), "Output")
        return self.def_.output[i]

    # -- input gradients -----------------------------------------------------
    def _not_sparse(self, i: int) -> _Wrapper:
        w = self._g_input[self._index(i)]
        if w.is_sparse():
            raise GradientError(f"Input {self.def_.input[i]} already set to sparse.")
        return w

    def _not_dense(self, i: int) -> _Wrapper:
        w = self._g_input[self._index(i)]
        if w.is_dense():
            raise GradientError(f"Input {self.def_.input[i]} already set to dense.")
        return w

    def _index(self, i: int) -> int:
        self._check(i, len(self.def_.input), "Input")
        return i

    def GI(self, i: int) -> str:
        """``<input>_grad``, recorded as the dense gradient of input ``i``."""
        self._not_sparse(i).dense = self.def_.input[i] + "_grad"
        return self.def_.input[i] + "_grad"

    def GI_I(self, i: int) -> str:
        """``<input>_grad_indices``, the indices part of a sparse gradient of input ``i``."""
        self._not_dense(i).indices = self.def_.input[i] + "_grad_indices"
        return self.def_.input[i] + "_grad_indices"

    def GI_V(self, i: int) -> str:
        """``<input>_grad_values``, the values part of a sparse gradient of input ``i``."""
        self._not_dense(i).values = self.def_.input[i] + "_grad_values"
        return self.def_.input[i] + "_grad_values"

    def SetDense(self, i: int, name: str) -> None:
        """Make ``name`` the gradient of input ``i`` without an op (a pass-through)."""
        self._not_sparse(i).dense = str(name)

    def SetSparse(self, i: int, indices: str, values: str) -> None:
        """Make ``(indices, values)`` the sparse gradient of input ``i`` without an op."""
        w = self._not_dense(i)
        w.indices, w.values = str(indices), str(values)

    # -- output gradients ----------------------------------------------------
    def _out(self, i: int) -> _Wrapper:
        self._check(i, len(self._g_output), "Output")
        return self._g_output[i]

    def GO(self, i: int) -> str:
        """The dense gradient of output ``i``."""
        w = self._out(i)
        if not w.is_dense():
            how = "is sparse (expected dense)." if w.is_sparse() else "is not provided!"
            raise GradientError(f"Gradient of output {self.def_.output[i]} {how}")
        return w.dense

    def _sparse_out(self, i: int) -> _Wrapper:
        w = self._out(i)
        if not w.is_sparse():
            how = "is dense (expected sparse)." if w.is_dense() else "is not provided!"
            raise GradientError(f"Gradient of output {self.def_.output[i]} {how}")
        return w

    def GO_I(self, i: int) -> str:
        """The indices part of the sparse gradient of output ``i``."""
        return self._sparse_out(i).indices

    def GO_V(self, i: int) -> str:
        """The values part of the sparse gradient of output ``i``."""
        return self._sparse_out(i).values

    def GradOut(self, i: int) -> Any:
        """The gradient of output ``i`` as given: a name, a GradientSlice or None."""
        return self._out(i).to_python()

    # -- building ops ----------------------------------------------------------
    def arg(self, name: str, default: Any = None) -> Any:
        """The value of the forward op's argument ``name`` (``default`` when absent)."""
        for a in self.def_.arg:
            if a.name == name:
                value = argument_value(a)
                if isinstance(default, str) and isinstance(value, bytes):
                    return value.decode("utf-8")
                if isinstance(default, bool):
                    return bool(value)
                if isinstance(default, float) and isinstance(value, int):
                    return float(value)
                return value
        return default

    def op_def(
        self, op_type: str, inputs: Sequence[Any], outputs: Sequence[Any], **args: Any
    ) -> caffe2_pb2.OperatorDef:
        """A gradient OperatorDef as Caffe2's CreateOperatorDef built it (name ``""``)."""
        op = caffe2_pb2.OperatorDef()
        op.type = op_type
        op.name = ""
        op.input.extend(str(b) for b in inputs)
        op.output.extend(str(b) for b in outputs)
        for key, value in args.items():
            if value is not None:
                op.arg.append(make_argument(key, value))
        return op

    def g_input(self) -> list[Any]:
        """The input gradients recorded so far (name, GradientSlice or None each)."""
        return [w.to_python() for w in self._g_input]


def _schema_check(op: caffe2_pb2.OperatorDef) -> None:
    schema = registry.find(op.type)
    if schema is None:
        return
    problems = schema.verify(op)
    if problems:
        for p in problems:
            _log.error("%s", p)
        raise GradientError(
            f"(GradientMaker) Operator def did not pass schema checking: {op}"
        )


def builtin_gradient_for_op(
    op: caffe2_pb2.OperatorDef, g_output: Sequence[Any]
) -> tuple[list[caffe2_pb2.OperatorDef], list[Any]]:
    """The built-in (C++-side) gradient of ``op``: ``(gradient ops, g_input)``."""
    entry = registry.gradient_entry(op.type)
    if entry is None:
        raise GradientError(f"Gradient maker for operator {op.type} not implemented.")
    if entry.kind == registry.SHOULD_NOT_DO:
        raise GradientError(f"One should not call gradient for operator {op.type}.")
    if entry.kind == registry.NOT_IMPLEMENTED_YET:
        raise GradientError(
            f"Operator {op.type} should have a gradient but is not implemented yet."
        )
    _schema_check(op)
    forward = caffe2_pb2.OperatorDef()
    forward.CopyFrom(op)
    ctx = GradientContext(forward, g_output)
    ops: list[caffe2_pb2.OperatorDef] = []
    if entry.kind == registry.MAKER:
        assert entry.maker is not None  # registered with the MAKER kind
        made = entry.maker(ctx)
        ops = (
            []
            if made is None
            else [made]
            if isinstance(made, caffe2_pb2.OperatorDef)
            else list(made)
        )
    for grad_op in ops:
        grad_op.is_gradient_op = True
        if entry.copy_device_option and op.HasField("device_option"):
            grad_op.device_option.CopyFrom(op.device_option)
        if entry.copy_engine and op.HasField("engine"):
            grad_op.engine = op.engine
        if entry.copy_arguments and len(op.arg):
            grad_op.arg.extend(op.arg)
    for w in ctx._g_input:
        if not w.is_dense() and w.is_sparse() and not (w.indices and w.values):
            raise GradientError(
                "For sparse gradient, one should set both indices and values. "
                f"Currently we have: ({w.indices}, {w.values})."
            )
    return ops, ctx.g_input()


def get_gradient_for_op(
    op: caffe2_pb2.OperatorDef, g_output: Sequence[Any]
) -> tuple[list[caffe2_pb2.OperatorDef], list[Any]]:
    """``GradientRegistry.GetGradientForOp``: the built-in registry first, then the
    Python one; ``None`` becomes ``[]`` and a single op ``[op]``."""
    try:
        ops, g_input = builtin_gradient_for_op(op, g_output)
    except Exception as e:
        python_maker = PYTHON_GRADIENTS.get(op.type)
        if python_maker is None:
            raise GradientError(
                f"Exception when creating gradient for [{op.type}]:{e}.\nOp: \n{op}"
            ) from e
        ops, g_input = python_maker(op, g_output)
    if ops is None:
        return [], g_input
    if type(ops) is not list:
        ops = [ops] if isinstance(ops, caffe2_pb2.OperatorDef) else list(ops)
    return ops, g_input
