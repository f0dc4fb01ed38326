"""The state of one ONNX -> Caffe2 import, and the table of per-op converters.

A converter is a plain function ``convert(ctx, node, attrs)`` registered in
``CONVERTERS`` under its ONNX op type with :func:`converter`. It emits Caffe2
OperatorDefs into the predict net with :meth:`ImportContext.op`, may add constant
tensors to the init net with :meth:`ImportContext.constant`, and raises
:class:`Unsupported` (with a short reason) for a form it cannot express with
caffe2lite's registered operators; the backend collects those reasons for every node
before reporting them together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caffe2lite.io.arguments import operator_def
from caffe2lite.proto import caffe2_pb2

CONVERTERS: dict[str, Callable[..., None]] = {}


class Unsupported(Exception):
    """A node the importer cannot express; ``reason`` says which form, or is empty."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def converter(*op_types: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``fn`` as the converter of each ONNX op type in ``op_types``."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        for t in op_types:
            if t in CONVERTERS:
                raise RuntimeError(f"ONNX converter for {t} is registered twice")
            CONVERTERS[t] = fn
        return fn

    return decorate


# ONNX TensorProto.DataType -> numpy dtype (the types caffe2lite blobs can hold).
ONNX_NUMPY = {
    1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
    7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64,
}
# ONNX TensorProto.DataType -> Caffe2 TensorProto.DataType (Cast's ``to``).
ONNX_TO_CAFFE2 = {
    1: caffe2_pb2.TensorProto.FLOAT, 2: caffe2_pb2.TensorProto.UINT8,
    3: caffe2_pb2.TensorProto.INT8, 4: caffe2_pb2.TensorProto.UINT16,
    5: caffe2_pb2.TensorProto.INT16, 6: caffe2_pb2.TensorProto.INT32,
    7: caffe2_pb2.TensorProto.INT64, 9: caffe2_pb2.TensorProto.BOOL,
    10: caffe2_pb2.TensorProto.FLOAT16, 11: caffe2_pb2.TensorProto.DOUBLE,
}
_NUMPY_TO_CAFFE2 = {np.dtype(ONNX_NUMPY[k]): v for k, v in ONNX_TO_CAFFE2.items()}
# The dtypes a constant may have: a Given*Fill op (and a Cast for the narrow ints) makes it.
FILL_DTYPES = frozenset(np.dtype(t) for t in ONNX_NUMPY.values())


def _fill(op_type: str, name: str, values: list, shape: list[int], field: str,
          into: Any) -> caffe2_pb2.OperatorDef:
    # Built in place (not through operator_def): initializers can hold millions of
    # values, and every protobuf copy of them costs.
    op = into.add() if into is not None else caffe2_pb2.OperatorDef()
    op.type = op_type
    op.output.append(name)
    arg = op.arg.add()
    arg.name = "values"
    getattr(arg, field).extend(values)
    arg = op.arg.add()
    arg.name = "shape"
    arg.ints.extend(shape)
    return op


def fill_ops(name: str, array: np.ndarray, tmp: Callable[[str], str], into: Any = None) -> list:
    """The Given*Fill op(s) that produce ``array`` as blob ``name`` (appended to the
    repeated ``into`` field when given, e.g. a NetDef's ``op``).

    As Caffe2's backend did: float -> GivenTensorFill, double -> GivenTensorDoubleFill,
    int64 -> GivenTensorInt64Fill, int32 -> GivenTensorIntFill, bool ->
    GivenTensorBoolFill, float16 -> GivenTensorFp16Fill. The narrow integer types
    (int8, uint8, int16, uint16) go through GivenTensorIntFill and then a Cast back to
    their own type, so the blob keeps the ONNX dtype.
    """
    a = np.asarray(array)
    shape = list(a.shape)
    flat = a.reshape(-1)
    kind = a.dtype
    floats = {np.dtype(np.float32): "GivenTensorFill", np.dtype(np.float64):
              "GivenTensorDoubleFill", np.dtype(np.float16): "GivenTensorFp16Fill"}
    ints = {np.dtype(np.int64): "GivenTensorInt64Fill", np.dtype(np.int32):
            "GivenTensorIntFill", np.dtype(np.bool_): "GivenTensorBoolFill"}
    if kind in floats:
        return [_fill(floats[kind], name, flat.astype(np.float32).tolist(), shape, "floats",
                      into)]
    if kind in ints:
        return [_fill(ints[kind], name, flat.astype(np.int64).tolist(), shape, "ints", into)]
    if kind in (np.int8, np.uint8, np.int16, np.uint16):
        mid = tmp(name + "_int32")
        fill = _fill("GivenTensorIntFill", mid, flat.astype(np.int64).tolist(), shape, "ints",
                     into)
        cast = operator_def("Cast", [mid], [name], to=_NUMPY_TO_CAFFE2[np.dtype(kind)])
        if into is not None:
            into.append(cast)
        return [fill, cast]
    raise Unsupported(f"a constant of dtype {kind} ('{name}')")


class ImportContext:
    """What converters see: constants, inferred shapes, fresh names, the op lists."""

    def __init__(self, opset: int, consts: dict[str, np.ndarray],
                 value_types: dict[str, tuple[Any, int]], names: set[str]) -> None:
        self.opset = opset
        self.consts = consts
        self.value_types = value_types
        self._names = set(names)
        self._counter = 0
        self.ops: list[caffe2_pb2.OperatorDef] = []
        self.init_ops: list[caffe2_pb2.OperatorDef] = []
        self.node_name = ""

    # -- names ---------------------------------------------------------------
    def tmp(self, hint: str) -> str:
        """A blob name used nowhere in the graph, built from ``hint``."""
        while True:
            self._counter += 1
            name = f"{hint}__{self._counter}"
            if name not in self._names:
                self._names.add(name)
                return name

    # -- emitting ------------------------------------------------------------
    def op(self, op_type: str, inputs: list[str], outputs: list[str], **args: Any) -> str:
        """Append a Caffe2 op to the predict net; return its first output."""
        self.ops.append(operator_def(op_type, inputs, outputs, name=self.node_name, **args))
        return outputs[0] if outputs else ""

    def constant(self, array: Any, hint: str, dtype: Any = None) -> str:
        """A new init-net blob holding ``array``; returns its name."""
        a = np.asarray(array, dtype=dtype)
        name = self.tmp(hint)
        self.init_ops.extend(fill_ops(name, a, self.tmp))
        self.consts[name] = a
        return name

    # -- facts about values --------------------------------------------------
    def const(self, name: str) -> np.ndarray | None:
        """The value of ``name`` when it is known before running (initializer/Constant)."""
        if not name:
            return None
        return self.consts.get(name)

    def need_const(self, name: str, what: str) -> np.ndarray:
        v = self.const(name)
        if v is None:
            raise Unsupported(f"a computed {what} input (only constants are supported)")
        return v

    def shape(self, name: str) -> tuple | None:
        """Inferred dims of ``name`` (ints, or None where unknown); None if rank unknown."""
        if name in self.consts:
            return tuple(int(d) for d in np.shape(self.consts[name]))
        t = self.value_types.get(name)
        return None if t is None else t[0]

    def rank(self, name: str) -> int | None:
        s = self.shape(name)
        return None if s is None else len(s)

    def need_rank(self, name: str, why: str) -> int:
        r = self.rank(name)
        if r is None:
            raise Unsupported(f"an input of unknown rank ({why} needs it)")
        return r

    def static_shape(self, name: str) -> tuple[int, ...] | None:
        s = self.shape(name)
        if s is None or any(d is None for d in s):
            return None
        return tuple(s)

    def elem_type(self, name: str) -> int | None:
        if name in self.consts:
            a = self.consts[name]
            for k, v in ONNX_NUMPY.items():
                if np.dtype(v) == a.dtype:
                    return k
            return None
        t = self.value_types.get(name)
        return None if t is None else (t[1] or None)  # 0: UNDEFINED


# The most elements a converter puts into a constant it makes itself (index vectors,
# masks, pad blocks): a model is untrusted, and its declared sizes could be huge.
MADE_CONSTANT_LIMIT = 1 << 22


def small_constant(count: int, what: str) -> None:
    """Refuse (Unsupported) to build a constant of ``count`` elements when too many."""
    if count > MADE_CONSTANT_LIMIT:
        raise Unsupported(f"{what} of {count} elements (at most {MADE_CONSTANT_LIMIT})")


def canon_axis(axis: int, rank: int) -> int:
    """``axis`` in ``[0, rank)`` (ONNX allows negative axes)."""
    a = int(axis)
    if not -rank <= a < rank:
        raise Unsupported(f"axis {a} out of range for rank {rank}")
    return a + rank if a < 0 else a


def ints_of(array: Any) -> list[int]:
    return [int(v) for v in np.asarray(array).reshape(-1)]
