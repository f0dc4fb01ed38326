"""IsMemberOf: a bool tensor of X's shape, True where X's element is one of the
``value`` argument's values."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.example import Example
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

from .._dense import dispatch

TP = caffe2_pb2.TensorProto
# Caffe2's TestableTypes and the TensorProto type each reads its values as
_TYPES = {TP.INT32: np.dtype(np.int32), TP.INT64: np.dtype(np.int64),
          TP.BOOL: np.dtype(np.bool_), TP.STRING: np.dtype(object)}
_TESTABLE = tuple(_TYPES.values())


def _typed_values(value: Any, dtype: np.dtype) -> list:
    """Caffe2's GetRepeatedArgument<T>("value"): the repeated ``ints`` field for the
    integer and bool types, ``strings`` for strings; anything else (a single value,
    floats) reads as no values."""
    items = value if isinstance(value, list) else []
    if dtype == np.dtype(object):
        return [v for v in items if isinstance(v, bytes)]
    ints = [v for v in items if isinstance(v, int) and not isinstance(v, bool)]
    if len(ints) != len(items):
        return []
    return [bool(v) for v in ints] if dtype == np.dtype(np.bool_) else ints


def _is_member_of_shape(x: TensorShape, **_: Any) -> tuple[TensorShape]:
    """X's shape, type bool (Caffe2's inference function)."""
    return (TensorShape(x.dims, np.bool_),)


@register_cpu_operator(
    "IsMemberOf",
    inputs=["X"],
    outputs=["Y"],
    args=[
        Arg("value", "any", [], doc="the values to test membership in"),
        Arg("dtype", "dtype", TP.UNDEFINED,
            doc="the type the values are read as (INT32, INT64, BOOL or STRING); by "
                "default X's type at the op's first run",
            check=lambda v: v == TP.UNDEFINED or v in _TYPES,
            check_message="Unexpected 'dtype' argument value",
            expected="UNDEFINED, INT32, INT64, BOOL or STRING"),
    ],
    shape=_is_member_of_shape,
    example=Example({"X": np.array([0, 1, 2, 3, 4, 5, 6, 7, 8], np.int32)},
                    {"Y": np.array([1, 0, 1, 0, 1, 0, 1, 0, 1], bool)},
                    {"value": [0, 2, 4, 6, 8]}),
    doc="""Y[i] = X[i] in value, element-wise: Y is bool with X's shape. X is int32,
int64, bool or a string tensor. The values are read as ``dtype`` when it is given
(integers from the ints field, strings from the strings field), otherwise as X's type
the first time the op runs. As in Caffe2, the values keep that type for the op's
life: an X of another type then matches nothing (all False).

Example: X=[0, 1, 2, 3, 4, 5, 6, 7, 8] with value=[0, 2, 4, 6, 8] ->
Y=[True, False, True, False, True, False, True, False, True]""",
)
def is_member_of(x: np.ndarray, *, value: Any, dtype: int, state: dict) -> tuple:
    """np.isin against the values read in their fixed type."""
    kind = dispatch(x, "X", _TESTABLE)
    if "type" not in state:
        state["type"] = _TYPES[dtype] if dtype != TP.UNDEFINED else kind
    if state["type"] != kind:  # Caffe2 looked in the empty set of X's type
        return (np.zeros(x.shape, bool),)
    values = np.array(_typed_values(value, kind), kind)
    if values.size == 0 or x.size == 0:
        return (np.zeros(x.shape, bool),)
    return (np.isin(x, values),)


should_not_do_gradient("IsMemberOf")
