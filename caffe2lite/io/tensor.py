"""TensorProto <-> numpy, for every element type Caffe2's TensorProto.DataType names.

Where each type's values live in a TensorProto (as Caffe2's own serializer wrote them):

======================  ===========  ==============================================
DataType                numpy        field
======================  ===========  ==============================================
FLOAT                   float32      float_data
DOUBLE                  float64      double_data
INT32                   int32        int32_data
INT64                   int64        int64_data
BOOL, UINT8, INT8,      bool, uint8, int32_data (one value per element) or byte_data
UINT16, INT16           int8, ...    (the elements' little-endian bytes)
FLOAT16                 float16      int32_data (the 16-bit patterns) or byte_data
BYTE (legacy)           uint8        byte_data (or int32_data); written as UINT8
STRING                  object       string_data, an object array of ``bytes``
======================  ===========  ==============================================

Any fixed-size type may instead keep its elements' little-endian bytes in
``raw_data`` (``numpy_to_tensor(..., raw=True)`` writes that). A FLOAT tensor with
``data_format = FMT_BFLOAT16`` keeps bfloat16 values in ``raw_data``, two
little-endian bytes each (the high half of each float32), and nothing in int32_data:
that is how Caffe2's serializer wrote it and the only place its reader looked; it
reads back as float32. ``dims`` give the shape (none: a 0-d tensor of one element).
UNDEFINED (nested serialized blobs), ZERO_COLLISION_HASH and REBATCHING_BUFFER need
Caffe2's special deserializers and are refused, except that an empty UNDEFINED tensor
reads as an empty float32 vector, as in Caffe2. Nothing here unpickles or runs code.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np

from caffe2lite.errors import DTypeError, ProtoParseError, did_you_mean
from caffe2lite.io import limits
from caffe2lite.proto import caffe2_pb2

TensorProto = caffe2_pb2.TensorProto
DT = TensorProto.DataType

# DataType -> numpy dtype. BYTE is Caffe2's legacy spelling of UINT8.
DTYPES: dict[int, np.dtype] = {
    TensorProto.FLOAT: np.dtype(np.float32),
    TensorProto.INT32: np.dtype(np.int32),
    TensorProto.BYTE: np.dtype(np.uint8),
    TensorProto.STRING: np.dtype(object),
    TensorProto.BOOL: np.dtype(np.bool_),
    TensorProto.UINT8: np.dtype(np.uint8),
    TensorProto.INT8: np.dtype(np.int8),
    TensorProto.UINT16: np.dtype(np.uint16),
    TensorProto.INT16: np.dtype(np.int16),
    TensorProto.INT64: np.dtype(np.int64),
    TensorProto.FLOAT16: np.dtype(np.float16),
    TensorProto.DOUBLE: np.dtype(np.float64),
}
# numpy dtype -> DataType (uint8 is written as UINT8, never BYTE).
DATA_TYPES: dict[np.dtype, int] = {
    dtype: dt for dt, dtype in DTYPES.items() if dt != TensorProto.BYTE
}
# Where a type's values live when they are not in raw_data.
VALUE_FIELDS: dict[int, str] = {
    TensorProto.FLOAT: "float_data",
    TensorProto.DOUBLE: "double_data",
    TensorProto.INT32: "int32_data",
    TensorProto.INT64: "int64_data",
    TensorProto.STRING: "string_data",
}
FIELD_DTYPES = {
    "float_data": np.float32,
    "double_data": np.float64,
    "int32_data": np.int32,
    "int64_data": np.int64,
}
# Types Caffe2 stored one per int32_data value, or as raw bytes in byte_data.
BYTES_OR_INT32 = {
    TensorProto.BOOL,
    TensorProto.UINT8,
    TensorProto.INT8,
    TensorProto.UINT16,
    TensorProto.INT16,
    TensorProto.FLOAT16,
    TensorProto.BYTE,
}
INT64_MAX = (1 << 63) - 1
NAME_ALIASES = {"FLOAT32": "FLOAT", "FLOAT64": "DOUBLE"}
DATA_TYPE_NAMES = list(DT.keys())


def data_type_from_name_or_enum(value: int | str) -> int:
    """A DataType value from itself or its case-insensitive name.

    >>> data_type_from_name_or_enum("int64"), data_type_from_name_or_enum(1)
    (10, 1)
    """
    if isinstance(value, str):
        key = value.strip().upper()
        key = NAME_ALIASES.get(key, key)
        if key not in DATA_TYPE_NAMES:
            hint = did_you_mean(key, DATA_TYPE_NAMES)
            raise DTypeError(
                f"unknown data type name {value!r}{hint}",
                expected=f"one of {', '.join(DT.keys())}",
            )
        return DT.Value(key)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if int(value) not in DT.values():
            raise DTypeError(
                f"unknown data type {int(value)}",
                expected=f"one of {sorted(DT.values())}",
            )
        return int(value)
    raise DTypeError("a data type is an int or a name", found=type(value).__name__)


def dtype_from_name_or_enum(value: int | str) -> np.dtype:
    """The numpy dtype of a DataType given as an int or a case-insensitive name.

    >>> dtype_from_name_or_enum("float"), dtype_from_name_or_enum(10)
    (dtype('float32'), dtype('int64'))
    """
    data_type = data_type_from_name_or_enum(value)
    if data_type not in DTYPES:
        raise DTypeError(
            f"data type {DT.Name(data_type)} has no numpy equivalent",
            expected=f"one of {', '.join(_names(DTYPES))}",
        )
    return DTYPES[data_type]


def data_type_of(np_dtype: Any) -> int:
    """The DataType for a numpy dtype (bytes, str and object arrays are STRING).

    >>> data_type_of(np.float32), data_type_of(np.dtype("S3"))
    (1, 4)
    """
    try:
        dtype = np.dtype(np_dtype)
    except TypeError:
        raise DTypeError(f"{np_dtype!r} is not a numpy dtype") from None
    if dtype.kind in "OSU":
        return TensorProto.STRING
    native = dtype.newbyteorder("=") if dtype.byteorder not in "=|" else dtype
    if native not in DATA_TYPES:
        supported = ", ".join(str(d) for d in DATA_TYPES if d.kind != "O")
        raise DTypeError(
            f"numpy dtype {dtype} has no Caffe2 data type",
            expected=f"one of {supported}, bytes or str",
            found=str(dtype),
        )
    return DATA_TYPES[native]


def _names(types: dict) -> list[str]:
    return [DT.Name(t) for t in types]


def _label(tp: TensorProto) -> str:
    return f"tensor {tp.name!r}" if tp.name else "unnamed tensor"


def _check_count(
    tp: TensorProto, where: str, found: int, expected: int, unit: str
) -> None:
    if found != expected:
        raise ProtoParseError(
            f"{_label(tp)} ({DT.Name(tp.data_type)}): {where} size does not match "
            f"dims {list(tp.dims)}",
            expected=f"{expected} {unit}",
            found=found,
        )


def _from_bytes(
    tp: TensorProto, data: bytes, where: str, dtype: np.dtype, n: int
) -> np.ndarray:
    _check_count(tp, where, len(data), n * dtype.itemsize, "bytes")
    values = np.frombuffer(data, dtype=dtype.newbyteorder("<"))
    if dtype == np.bool_ and n and values.view(np.uint8).max() > 1:
        raise ProtoParseError(
            f"{_label(tp)} (BOOL): {where} holds a byte other than 0 or 1"
        )
    return values.astype(dtype)  # a native-order, writable copy


def _from_int32_data(tp: TensorProto, dtype: np.dtype, n: int) -> np.ndarray:
    values = np.fromiter(tp.int32_data, dtype=np.int64, count=len(tp.int32_data))
    _check_count(tp, "int32_data", len(values), n, "values")
    store = np.dtype(np.uint16) if dtype == np.float16 else dtype
    low, high = (
        (0, 1) if store == np.bool_ else (np.iinfo(store).min, np.iinfo(store).max)
    )
    if len(values) and (values.min() < low or values.max() > high):
        bad = values[(values < low) | (values > high)][0]
        raise ProtoParseError(
            f"{_label(tp)} ({DT.Name(tp.data_type)}): int32_data value out of range",
            expected=f"{low}..{high}",
            found=int(bad),
        )
    return (
        values.astype(store).view(dtype)
        if dtype == np.float16
        else values.astype(dtype)
    )


def _segment_check(tp: TensorProto, n: int) -> None:
    if tp.HasField("segment") and (tp.segment.begin, tp.segment.end) != (0, n):
        raise ProtoParseError(
            f"{_label(tp)} holds only the chunk [{tp.segment.begin}, {tp.segment.end}) "
            f"of {n} elements; chunked tensors are not supported"
        )


def _element_count(tp: TensorProto, shape: tuple[int, ...]) -> int:
    """The number of elements ``dims`` give, checked before anything is allocated:
    at most ``MAX_TENSOR_DIMS`` dims, none negative, a product that fits in int64
    (Caffe2 multiplied in int64 and would overflow) and that numpy can address."""
    if len(shape) > limits.MAX_TENSOR_DIMS:
        raise ProtoParseError(
            f"{_label(tp)} has {len(shape)} dims, more than the limit of "
            f"{limits.MAX_TENSOR_DIMS} (caffe2lite.io.limits.MAX_TENSOR_DIMS)"
        )
    if any(d < 0 for d in shape):
        raise ProtoParseError(
            f"{_label(tp)} has a negative dimension in dims {_dims(shape)}"
        )
    n = math.prod(shape)  # exact: Python ints do not overflow
    if n > INT64_MAX or any(d > INT64_MAX for d in shape):
        raise ProtoParseError(
            f"{_label(tp)}: the product of dims {_dims(shape)} does not fit in int64",
            expected=f"at most {INT64_MAX} elements",
        )
    if n == 0 and shape and tp.data_type in DTYPES:
        # numpy refuses even empty shapes whose nonzero dims' bytes pass intp.
        itemsize = DTYPES[tp.data_type].itemsize
        if math.prod(d for d in shape if d) * itemsize > INT64_MAX:
            raise ProtoParseError(
                f"{_label(tp)}: dims {_dims(shape)} are too large for an array, "
                "even an empty one"
            )
    return n


def _dims(shape: tuple[int, ...]) -> str:
    text = str(list(shape[:8]))
    return text if len(shape) <= 8 else text[:-1] + f", ... ({len(shape)} dims)]"


def tensor_to_numpy(tp: TensorProto) -> np.ndarray:
    """The array a TensorProto holds: its dims as shape, its DataType as dtype.

    >>> tensor_to_numpy(TensorProto(dims=[2], data_type=TensorProto.INT64, int64_data=[3, 4]))
    array([3, 4])
    """
    shape, data_type = tuple(tp.dims), tp.data_type
    n = _element_count(tp, shape)
    if data_type == TensorProto.UNDEFINED and n == 0:
        return np.zeros((0,), dtype=np.float32)
    if data_type not in DTYPES:
        raise DTypeError(
            f"{_label(tp)} has data type {DT.Name(data_type)}, which needs one of "
            "Caffe2's specialized deserializers; caffe2lite cannot read it",
            expected=f"one of {', '.join(_names(DTYPES))}",
            found=DT.Name(data_type),
        )
    _segment_check(tp, n)
    dtype, fmt = DTYPES[data_type], tp.data_format
    if fmt == TensorProto.FMT_BFLOAT16 and data_type == TensorProto.FLOAT:
        halves = _from_bytes(
            tp, tp.raw_data, "raw_data (bfloat16)", np.dtype(np.uint16), n
        )
        return (halves.astype(np.uint32) << 16).view(np.float32).reshape(shape)
    if fmt != TensorProto.FMT_PROTOBUF:
        raise ProtoParseError(
            f"{_label(tp)}: unsupported serialization format {fmt} for data type "
            f"{DT.Name(data_type)}",
            expected="FMT_PROTOBUF (0), or FMT_BFLOAT16 (1) for FLOAT",
        )
    field = VALUE_FIELDS.get(data_type, "int32_data")
    used = [f for f in (field, "byte_data", "raw_data") if _present(tp, f)]
    if len(used) > 1:
        raise ProtoParseError(
            f"{_label(tp)} has values in both {used[0]} and {used[1]}"
        )
    if data_type == TensorProto.STRING:
        if "raw_data" in used or "byte_data" in used:
            raise ProtoParseError(
                f"{_label(tp)} (STRING) keeps its values in string_data only"
            )
        _check_count(tp, "string_data", len(tp.string_data), n, "values")
        values = np.empty(n, dtype=object)
        values[:] = list(tp.string_data)
    elif used and used[0] in ("raw_data", "byte_data"):
        if used[0] == "byte_data" and data_type not in BYTES_OR_INT32:
            raise ProtoParseError(
                f"{_label(tp)} ({DT.Name(data_type)}) cannot use byte_data"
            )
        values = _from_bytes(tp, getattr(tp, used[0]), used[0], dtype, n)
    elif data_type in BYTES_OR_INT32:
        values = _from_int32_data(tp, dtype, n)
    else:
        container = getattr(tp, field)
        _check_count(tp, field, len(container), n, "values")
        values = np.fromiter(container, dtype=dtype, count=len(container))
    return values.reshape(shape)


def _present(tp: TensorProto, field: str) -> bool:
    if field in ("raw_data", "byte_data"):
        return tp.HasField(field)
    return len(getattr(tp, field)) > 0


def numpy_to_tensor(
    arr: Any, name: str | None = None, *, raw: bool = False
) -> TensorProto:
    """A TensorProto holding ``arr``, laid out as Caffe2's serializer wrote it.

    With ``raw=True`` fixed-size values go to ``raw_data`` (little-endian) instead.

    >>> numpy_to_tensor(np.array([1.5], np.float32), "x").float_data[0]
    1.5
    """
    arr = np.asarray(arr)
    data_type = data_type_of(arr.dtype)
    tp = TensorProto(dims=arr.shape, data_type=cast("TensorProto.DataType", data_type))
    if name is not None:
        tp.name = name
    flat = arr.ravel()
    if data_type == TensorProto.STRING:
        if raw:
            raise DTypeError(
                "raw_data holds fixed-size values only; STRING uses string_data",
                found=str(arr.dtype),
            )
        tp.string_data.extend(_as_bytes(v) for v in flat.tolist())
    elif raw:
        dtype = DTYPES[data_type]
        tp.raw_data = flat.astype(dtype.newbyteorder("<"), copy=False).tobytes()
    elif data_type == TensorProto.FLOAT16:
        tp.int32_data.extend(flat.astype(np.float16).view(np.uint16).tolist())
    else:
        field = VALUE_FIELDS.get(data_type, "int32_data")
        getattr(tp, field).extend(flat.astype(FIELD_DTYPES[field]).tolist())
    return tp


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise DTypeError(
        "a STRING tensor holds only bytes or str elements", found=type(value).__name__
    )
