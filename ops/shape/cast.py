"""Cast: convert a tensor's elements to the DataType named by ``to``; its gradient
casts the output gradient back (which needs ``from_type`` on the forward op)."""

from __future__ import annotations

from typing import Any

import numpy as np

from caffe2lite.io.arguments import argument_value
from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.errors import ArgumentError, DTypeError, GradientError
from caffe2lite.proto import caffe2_pb2
from caffe2lite.schema.registry import register_cpu_operator, register_gradient
from caffe2lite.schema.opschema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.shapes import TensorShape
from .._dense import tensor

DataType = caffe2_pb2.TensorProto.DataType

# The numpy type each castable DataType becomes (STRING: an object array of bytes).
_TARGETS = {
    DataType.Value("FLOAT"): np.dtype(np.float32),
    DataType.Value("INT32"): np.dtype(np.int32),
    DataType.Value("STRING"): np.dtype(object),
    DataType.Value("BOOL"): np.dtype(np.bool_),
    DataType.Value("UINT8"): np.dtype(np.uint8),
    DataType.Value("INT8"): np.dtype(np.int8),
    DataType.Value("UINT16"): np.dtype(np.uint16),
    DataType.Value("INT16"): np.dtype(np.int16),
    DataType.Value("INT64"): np.dtype(np.int64),
    DataType.Value("DOUBLE"): np.dtype(np.float64),
}
_SOURCES = (
    np.float32,
    np.int32,
    np.bool_,
    np.uint8,
    np.int8,
    np.uint16,
    np.int16,
    np.int64,
    np.float64,
)


def cast_data_type(value: Any, name: str = "to") -> int:
    """A ``to`` / ``from_type`` argument value (an int, or a DataType name in any case)
    as a DataType number; a missing argument means FLOAT."""
    if value is None:
        return DataType.Value("FLOAT")
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    if isinstance(value, str):
        key = value.upper()
        if key not in DataType.keys():
            raise ArgumentError(
                f"Unknown 'to' argument: {key}",
                arg=name,
                expected=f"one of {', '.join(DataType.keys())}",
                found=repr(value),
            )
        return DataType.Value(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ArgumentError(
        f"Argument {name} does not have the right field: expected field i",
        arg=name,
        expected="an int or a DataType name",
        found=repr(value),
    )


def target_dtype(to: int) -> np.dtype:
    """The numpy type for DataType ``to``, with Caffe2's refusals."""
    if to in _TARGETS:
        return _TARGETS[to]
    if to == DataType.Value("UNDEFINED"):
        why = "Cast op must have 'to' argument of type DataType"
    elif to == DataType.Value("BYTE"):
        why = "BYTE is deprecated"
    elif to == DataType.Value("FLOAT16"):
        why = "Casting to and from at::Half on CPU is not supported yet"
    else:
        why = f"Unexpected 'to' argument value: {to}"
    raise ArgumentError(why, arg="to", expected="a castable DataType", found=to)


def _to_strings(x: np.ndarray) -> np.ndarray:
    # std::to_string: "%f" for floats, integers (bools as 0/1) in decimal.
    if x.dtype.kind == "f":
        items = [b"%f" % v for v in x.reshape(-1).tolist()]
    else:
        items = [b"%d" % v for v in x.reshape(-1).astype(np.int64).tolist()]
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(x.shape)


def _cast_shape(x: TensorShape, *, to: Any) -> tuple[TensorShape]:
    """The input's shape, of the type ``to`` names (Caffe2's Cast inference)."""
    return (TensorShape(x.dims, target_dtype(cast_data_type(to))),)


@register_cpu_operator(
    "Cast",
    inputs=["input"],
    outputs=["output"],
    args=[
        Arg(
            "to",
            "any",
            None,
            doc="the target DataType: its number or its name "
            "(FLOAT, INT32, INT64, DOUBLE, BOOL, ...); FLOAT when absent",
        ),
        Arg(
            "from_type",
            "any",
            None,
            doc="the input's DataType; only the gradient uses it",
        ),
    ],
    shape=_cast_shape,
    example=Example(
        {"input": np.array([1.7, -2.5, 0], np.float32)},
        {"output": np.array([1, -2, 0], np.int32)},
        {"to": 2},
    ),
    doc="""Convert every element to the type ``to`` (a TensorProto.DataType number or
name); the shape is kept. Floats become integers by truncation toward zero; any
non-zero value becomes true. Casting to STRING writes each number in decimal (floats
with six decimals); strings and float16 cannot be cast.

Example: input=[1.7, -2.5, 0], to=2 (INT32) -> output=[1, -2, 0]""",
)
def cast(x: np.ndarray, *, to: Any, from_type: Any) -> tuple:
    """``x.astype(target)`` with Caffe2's set of source and target types."""
    dtype = target_dtype(cast_data_type(to))
    tensor(x, "input")
    if x.dtype not in _SOURCES:
        raise DTypeError(
            f"Unsupported type of tensor: {cpp_type_name(x.dtype)}",
            blob="input",
            expected="a numeric or bool tensor",
            found=str(x.dtype),
        )
    if dtype == object:
        return (_to_strings(x),)
    with np.errstate(invalid="ignore", over="ignore"):
        return (x.astype(dtype),)


@register_gradient("Cast", copy_arguments=False)
def cast_gradient_maker(g):
    """``Cast([output_grad]) -> [input_grad]`` with ``to=from_type`` and
    ``from_type=to`` (as numbers); the forward arguments are not copied."""
    args = {a.name: a for a in g.def_.arg}
    to = cast_data_type(argument_value(args["to"]) if "to" in args else None)
    src = args.get("from_type")
    if src is None or not (src.HasField("i") or src.HasField("s")):
        raise GradientError(
            "Argument 'from_type' of type int or string is required to get "
            "the gradient of CastOp",
            arg="from_type",
            expected="an int or a DataType name",
            found="no from_type",
        )
    from_type = cast_data_type(argument_value(src), "from_type")
    return [g.op_def("Cast", [g.GO(0)], [g.GI(0)], to=from_type, from_type=to)]
