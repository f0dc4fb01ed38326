"""What the per-op converters of the ONNX export share: the converter table, the
context one op is converted in (its blobs' shapes, constant values, fresh names and
the nodes it emits) and :class:`Unsupported`, raised by a converter for a form of its
op that has no ONNX equivalent. Not public: :mod:`caffe2lite.onnx.frontend` drives it.

A converter is a small function ``convert(ctx, op, args)``: ``op`` is the OperatorDef
(inputs and outputs already renamed to single-assignment names), ``args`` its schema
arguments with Caffe2's defaults applied. It adds nodes with ``ctx.node`` and
constants with ``ctx.const``; it never builds protos by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caffe2lite.errors import Caffe2LiteError, RegistrationError
from caffe2lite.schema.shapes import UNKNOWN, TensorShape

INT64_MAX = 2**63 - 1


class ExportError(Caffe2LiteError):
    """A net cannot be carried to ONNX (unexportable ops, missing input types, or
    the onnx package is not installed)."""


class Unsupported(Exception):
    """This op, with these arguments or shapes, has no ONNX equivalent (why)."""


Converter = Callable[["OpContext", Any, dict[str, Any]], None]
CONVERTERS: dict[str, Converter] = {}


def converter(*op_types: str) -> Callable[[Converter], Converter]:
    """Register ``fn`` as the converter of each of ``op_types``."""

    def add(fn: Converter) -> Converter:
        for t in op_types:
            if t in CONVERTERS:
                raise RegistrationError(f"two ONNX converters for {t}")
            CONVERTERS[t] = fn
        return fn

    return add


class OpContext:
    """One op being converted: reads the graph's shapes and constants, writes nodes.

    ``graph`` is the frontend's builder; nodes added here are kept only if the whole
    op converts (an :class:`Unsupported` half-way leaves no node behind)."""

    def __init__(self, graph: Any, op: Any, index: int) -> None:
        self.graph = graph
        self.op = op
        self.index = index
        self.opset: int = graph.opset
        self.nodes: list[Any] = []
        self.consts: list[Any] = []

    # -- reading --------------------------------------------------------------
    def shape(self, name: str) -> TensorShape:
        """The inferred shape and type of blob ``name`` (dims or dtype may be None)."""
        return self.graph.shapes.get(name, UNKNOWN)

    def rank(self, name: str) -> int:
        dims = self.shape(name).dims
        if dims is None:
            raise Unsupported(
                f"needs the rank of '{name}', which shape inference left unknown"
            )
        return len(dims)

    def dims(self, name: str) -> tuple[int, ...]:
        """The static dimensions of ``name``, or :class:`Unsupported`."""
        dims = self.shape(name).dims
        if dims is None or not all(isinstance(d, int) for d in dims):
            raise Unsupported(
                f"needs the static shape of '{name}', which is "
                f"{'unknown' if dims is None else list(dims)}"
            )
        return tuple(int(d) for d in dims)

    def dtype(self, name: str, default: Any = np.float32) -> np.dtype:
        dt = self.shape(name).dtype
        return np.dtype(default if dt is None else dt)

    def value(self, name: str) -> np.ndarray | None:
        """The value of ``name`` when it is a constant (an initializer), else None."""
        return self.graph.constants.get(name)

    def used(self, name: str) -> bool:
        """Whether a later op reads ``name`` or the net gives it out."""
        return name in self.graph.read_later(self.index)

    def require_unused(self, *names: str) -> None:
        for n in names:
            if n and self.used(n):
                raise Unsupported(f"output '{n}' has no ONNX equivalent and is used")

    # -- writing --------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        return self.graph.fresh(hint)

    def const(self, value: Any, dtype: Any = None, hint: str = "const") -> str:
        """An initializer holding ``value`` (a new name, whose shape and value later
        steps of this op can read)."""
        arr = np.array(value, dtype=dtype)
        name = self.fresh(f"{self.op.output[0] if self.op.output else 'op'}_{hint}")
        self.consts.append((name, arr))
        self.graph.shapes[name] = TensorShape(arr.shape, arr.dtype)
        self.graph.constants[name] = arr
        return name

    def node(
        self, op_type: str, inputs: list[str], outputs: Any = 1, **attrs: Any
    ) -> list[str]:
        """Add an ONNX node; ``outputs`` is a list of names or a count of fresh ones.
        Returns the output names. ``None`` attributes are left out."""
        if isinstance(outputs, int):
            base = self.op.output[0] if self.op.output else op_type
            outputs = [self.fresh(f"{base}_{op_type.lower()}") for _ in range(outputs)]
        self.nodes.append(
            (
                op_type,
                list(inputs),
                list(outputs),
                {k: v for k, v in attrs.items() if v is not None},
            )
        )
        return list(outputs)

    def one(
        self, op_type: str, inputs: list[str], out: str | None = None, **attrs: Any
    ) -> str:
        """Add a one-output node; its output is ``out`` or a fresh name."""
        return self.node(op_type, inputs, [out] if out else 1, **attrs)[0]

    # -- common patterns -------------------------------------------------------
    def ints(self, values: Any) -> str:
        return self.const(np.asarray(values, np.int64).reshape(-1), hint="ints")

    def scalar_like(self, value: float, like: str) -> str:
        return self.const(np.array(value, self.dtype(like)), hint="scalar")

    def transpose(self, x: str, perm: list[int], out: str | None = None) -> str:
        return self.one("Transpose", [x], out, perm=list(perm))

    def reshape_like(self, x: str, like: str, out: str | None = None) -> str:
        """``x`` reshaped to ``like``'s shape (static when known, else Shape(like))."""
        dims = self.shape(like).dims
        if dims is not None and all(isinstance(d, int) for d in dims):
            target = self.ints(dims)
        else:
            target = self.one("Shape", [like])
        return self.one("Reshape", [x, target], out)

    def shape_part(self, x: str, start: int, end: int | None) -> str:
        """``shape(x)[start:end]`` as an int64 tensor (static when known)."""
        dims = self.shape(x).dims
        if dims is not None:
            part = dims[start:end]
            if all(isinstance(d, int) for d in part):
                return self.ints(part)
        whole = self.one("Shape", [x])
        ends = INT64_MAX if end is None else end
        return self.one(
            "Slice", [whole, self.ints([start]), self.ints([ends]), self.ints([0])]
        )

    def unsqueeze(self, x: str, axes: list[int], out: str | None = None) -> str:
        return self.one("Unsqueeze", [x, self.ints(axes)], out)

    def squeeze(self, x: str, axes: list[int], out: str | None = None) -> str:
        return self.one("Squeeze", [x, self.ints(axes)], out)

    def channels_last(self, name: str) -> tuple[list[int], list[int]]:
        """The perms NHWC -> NCHW and back for blob ``name`` (of known rank)."""
        rank = self.rank(name)
        to_first = [0, rank - 1] + list(range(1, rank - 1))
        to_last = [0] + list(range(2, rank)) + [1]
        return to_first, to_last
