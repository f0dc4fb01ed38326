"""TensorProto <-> numpy for every DataType, with exact values and exact errors."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite.errors import DTypeError, ProtoParseError
from caffe2lite.io import limits
from caffe2lite.io.tensor import (
    DTYPES,
    data_type_of,
    dtype_from_name_or_enum,
    numpy_to_tensor,
    tensor_to_numpy,
)
from caffe2lite.proto import caffe2_pb2

TP = caffe2_pb2.TensorProto

# (array, DataType, field written without raw, its values, raw_data bytes)
CASES = [
    (np.array([[1.5, -2.0]], np.float32), TP.FLOAT, "float_data", [1.5, -2.0],
     b"\x00\x00\xc0\x3f\x00\x00\x00\xc0"),
    (np.array([0.1, -1e300]), TP.DOUBLE, "double_data", [0.1, -1e300],
     np.array([0.1, -1e300], "<f8").tobytes()),
    (np.array([1, -2], np.int32), TP.INT32, "int32_data", [1, -2],
     b"\x01\x00\x00\x00\xfe\xff\xff\xff"),
    (np.array([2**40, -1], np.int64), TP.INT64, "int64_data", [2**40, -1],
     b"\x00\x00\x00\x00\x00\x01\x00\x00" + b"\xff" * 8),
    (np.array([True, False, True]), TP.BOOL, "int32_data", [1, 0, 1], b"\x01\x00\x01"),
    (np.array([0, 255], np.uint8), TP.UINT8, "int32_data", [0, 255], b"\x00\xff"),
    (np.array([-128, 127], np.int8), TP.INT8, "int32_data", [-128, 127], b"\x80\x7f"),
    (np.array([65535, 1], np.uint16), TP.UINT16, "int32_data", [65535, 1],
     b"\xff\xff\x01\x00"),
    (np.array([-32768, 2], np.int16), TP.INT16, "int32_data", [-32768, 2],
     b"\x00\x80\x02\x00"),
    (np.array([1.0, -2.0, np.inf], np.float16), TP.FLOAT16, "int32_data",
     [0x3C00, 0xC000, 0x7C00], b"\x00\x3c\x00\xc0\x00\x7c"),
]  # fmt: skip


@pytest.mark.parametrize("arr, data_type, field, values, raw", CASES)
def test_fixed_size_types_round_trip(arr, data_type, field, values, raw):
    tp = numpy_to_tensor(arr, "t")
    assert (tp.name, list(tp.dims), tp.data_type) == ("t", list(arr.shape), data_type)
    assert list(getattr(tp, field)) == values
    assert not tp.HasField("raw_data")
    back = tensor_to_numpy(tp)
    assert (back.dtype, back.shape, back.tolist()) == (
        arr.dtype,
        arr.shape,
        arr.tolist(),
    )
    assert back.flags.writeable

    tp_raw = numpy_to_tensor(arr, raw=True)
    assert (tp_raw.raw_data, list(getattr(tp_raw, field)), tp_raw.HasField("name")) == (
        raw, [], False
    )  # fmt: skip
    back = tensor_to_numpy(tp_raw)
    assert (back.dtype, back.shape, back.tolist()) == (
        arr.dtype,
        arr.shape,
        arr.tolist(),
    )


def test_strings_are_object_arrays_of_bytes():
    arr = np.array([[b"a", b""], ["é", b"\x00z"]], dtype=object)
    tp = numpy_to_tensor(arr)
    assert (list(tp.dims), tp.data_type) == ([2, 2], TP.STRING)
    assert list(tp.string_data) == [b"a", b"", b"\xc3\xa9", b"\x00z"]
    back = tensor_to_numpy(tp)
    assert back.dtype == object and back.shape == (2, 2)
    assert back.tolist() == [[b"a", b""], [b"\xc3\xa9", b"\x00z"]]
    assert list(numpy_to_tensor(np.array(["ab", "c"])).string_data) == [b"ab", b"c"]
    assert list(numpy_to_tensor(np.array([b"ab", b"c"])).string_data) == [b"ab", b"c"]


@pytest.mark.parametrize("dtype", [d for d in DTYPES.values()], ids=str)
def test_empty_and_zero_d_tensors(dtype):
    empty = np.zeros((0, 3), dtype=dtype)
    for raw in (False, True) if dtype != object else (False,):
        back = tensor_to_numpy(numpy_to_tensor(empty, raw=raw))
        assert (back.dtype, back.shape) == (dtype, (0, 3))
    scalar = np.array(b"x" if dtype == object else 1, dtype=dtype)
    tp = numpy_to_tensor(scalar)
    assert list(tp.dims) == []
    back = tensor_to_numpy(tp)
    assert (back.dtype, back.shape, back.tolist()) == (dtype, (), scalar.tolist())


def test_other_layouts_caffe2_wrote():
    cases = [
        (TP(dims=[2], data_type=TP.UINT16, byte_data=b"\x01\x00\xff\xff"), np.uint16, [1, 65535]),
        (TP(dims=[1], data_type=TP.FLOAT16, byte_data=b"\x00\x3c"), np.float16, [1.0]),
        (TP(dims=[2], data_type=TP.BOOL, byte_data=b"\x01\x00"), np.bool_, [True, False]),
        (TP(dims=[2], data_type=TP.INT8, byte_data=b"\xff\x01"), np.int8, [-1, 1]),
        (TP(dims=[2], data_type=TP.BYTE, byte_data=b"ab"), np.uint8, [97, 98]),
        (TP(dims=[2], data_type=TP.BYTE, int32_data=[1, 2]), np.uint8, [1, 2]),
        (TP(dims=[3], data_format=TP.FMT_BFLOAT16, raw_data=b"\x80\x3f\x00\xc0\x00\x3f"),
         np.float32, [1.0, -2.0, 0.5]),
        (TP(dims=[0], data_type=TP.UNDEFINED), np.float32, []),
        (TP(dims=[2], float_data=[1, 2], segment=TP.Segment(begin=0, end=2)), np.float32, [1, 2]),
    ]  # fmt: skip
    for tp, dtype, values in cases:
        back = tensor_to_numpy(tp)
        assert (back.dtype, back.tolist()) == (np.dtype(dtype), values)


def test_writing_details():
    big_endian = numpy_to_tensor(np.array([1.0], ">f4"), raw=True)
    assert big_endian.raw_data == b"\x00\x00\x80\x3f"
    strided = np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2]
    assert list(numpy_to_tensor(strided).int64_data) == [0, 2, 4, 6, 8, 10]
    assert tensor_to_numpy(numpy_to_tensor([1.0, 2.0])).dtype == np.float64
    assert numpy_to_tensor(np.array([7], np.uint8)).data_type == TP.UINT8


@pytest.mark.parametrize(
    "value, dtype",
    [("float", np.float32), ("FLOAT", np.float32), (" Float ", np.float32),
     ("int64", np.int64), ("double", np.float64), ("bool", np.bool_), ("string", object),
     ("float16", np.float16), ("uint8", np.uint8), ("byte", np.uint8), ("int8", np.int8),
     ("uint16", np.uint16), ("int16", np.int16), ("int32", np.int32), ("float32", np.float32),
     ("float64", np.float64), (1, np.float32), (np.int64(10), np.int64), (13, np.float64)],
)  # fmt: skip
def test_dtype_from_name_or_enum(value, dtype):
    assert dtype_from_name_or_enum(value) == np.dtype(dtype)


def test_data_type_of():
    pairs = [(np.float32, 1), (np.dtype(">i8"), 10), ("S3", 4), ("<U2", 4), (object, 4),
             (bool, 5), (np.uint8, 6), (np.float16, 12), ("float64", 13)]  # fmt: skip
    assert [data_type_of(d) for d, _ in pairs] == [t for _, t in pairs]


DATA_TYPE_NAMES = (
    "UNDEFINED, FLOAT, INT32, BYTE, STRING, BOOL, UINT8, INT8, UINT16, INT16, INT64, "
    "FLOAT16, DOUBLE, ZERO_COLLISION_HASH, REBATCHING_BUFFER"
)
READABLE = "FLOAT, INT32, BYTE, STRING, BOOL, UINT8, INT8, UINT16, INT16, INT64, FLOAT16, DOUBLE"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: dtype_from_name_or_enum("flaot"),
         (f"unknown data type name 'flaot'; did you mean 'FLOAT' or 'FLOAT16'? "
         f"(expected one of {DATA_TYPE_NAMES})")),
        (lambda: dtype_from_name_or_enum(11),
         "unknown data type 11 (expected one of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 15])"),
        (lambda: dtype_from_name_or_enum("undefined"),
         f"data type UNDEFINED has no numpy equivalent (expected one of {READABLE})"),
        (lambda: dtype_from_name_or_enum(14),
         f"data type ZERO_COLLISION_HASH has no numpy equivalent (expected one of {READABLE})"),
        (lambda: dtype_from_name_or_enum(True), "a data type is an int or a name (found bool)"),
        (lambda: dtype_from_name_or_enum(1.0), "a data type is an int or a name (found float)"),
        (lambda: data_type_of("foo"), "'foo' is not a numpy dtype"),
        (lambda: numpy_to_tensor(np.zeros(2, np.complex64)),
         ("numpy dtype complex64 has no Caffe2 data type (expected one of float32, int32, bool, "
         "uint8, int8, uint16, int16, int64, float16, float64, bytes or str, found complex64)")),
        (lambda: numpy_to_tensor(np.array([b"a"]), raw=True),
         "raw_data holds fixed-size values only; STRING uses string_data (found |S1)"),
        (lambda: numpy_to_tensor(np.array([b"a", 3], dtype=object)),
         "a STRING tensor holds only bytes or str elements (found int)"),
        (lambda: tensor_to_numpy(TP(dims=[1], data_type=TP.ZERO_COLLISION_HASH)),
         ("unnamed tensor has data type ZERO_COLLISION_HASH, which needs one of Caffe2's "
         f"specialized deserializers; caffe2lite cannot read it (expected one of {READABLE}, "
         "found ZERO_COLLISION_HASH)")),
        (lambda: tensor_to_numpy(TP(name="q", data_type=TP.REBATCHING_BUFFER)),
         ("tensor 'q' has data type REBATCHING_BUFFER, which needs one of Caffe2's "
         f"specialized deserializers; caffe2lite cannot read it (expected one of {READABLE}, "
         "found REBATCHING_BUFFER)")),
        (lambda: tensor_to_numpy(TP(dims=[1], data_type=TP.UNDEFINED, string_data=[b""])),
         ("unnamed tensor has data type UNDEFINED, which needs one of Caffe2's "
         f"specialized deserializers; caffe2lite cannot read it (expected one of {READABLE}, "
         "found UNDEFINED)")),
    ],
)  # fmt: skip
def test_type_errors(call, message):
    with pytest.raises(DTypeError) as info:
        call()
    assert str(info.value) == info.value.enforce_prefix() + message


@pytest.mark.parametrize(
    "tp, message",
    [
        (TP(name="w", dims=[2, 3], float_data=[1, 2]),
         ("tensor 'w' (FLOAT): float_data size does not match dims [2, 3] "
         "(expected 6 values, found 2)")),
        (TP(name="r", dims=[2], data_type=TP.INT32, raw_data=b"\x00" * 6),
         "tensor 'r' (INT32): raw_data size does not match dims [2] (expected 8 bytes, found 6)"),
        (TP(dims=[1], data_type=TP.STRING),
         ("unnamed tensor (STRING): string_data size does not match dims [1] "
         "(expected 1 values, found 0)")),
        (TP(dims=[3], data_type=TP.UINT16, byte_data=b"\x00" * 4),
         ("unnamed tensor (UINT16): byte_data size does not match dims [3] "
         "(expected 6 bytes, found 4)")),
        (TP(dims=[], data_type=TP.INT64),
         ("unnamed tensor (INT64): int64_data size does not match dims [] "
         "(expected 1 values, found 0)")),
        (TP(dims=[2], data_type=TP.UINT8, int32_data=[1, 300]),
         "unnamed tensor (UINT8): int32_data value out of range (expected 0..255, found 300)"),
        (TP(dims=[1], data_type=TP.FLOAT16, int32_data=[-1]),
         "unnamed tensor (FLOAT16): int32_data value out of range (expected 0..65535, found -1)"),
        (TP(dims=[2], data_type=TP.BOOL, int32_data=[0, 2]),
         "unnamed tensor (BOOL): int32_data value out of range (expected 0..1, found 2)"),
        (TP(dims=[2], data_type=TP.BOOL, byte_data=b"\x00\x02"),
         "unnamed tensor (BOOL): byte_data holds a byte other than 0 or 1"),
        (TP(dims=[2], data_format=TP.FMT_BFLOAT16, raw_data=b"\x80\x3f"),
         ("unnamed tensor (FLOAT): raw_data (bfloat16) size does not match dims [2] "
         "(expected 4 bytes, found 2)")),
        (TP(dims=[2], data_type=TP.INT32, data_format=TP.FMT_BFLOAT16),
         ("unnamed tensor: unsupported serialization format 1 for data type INT32 "
         "(expected FMT_PROTOBUF (0), or FMT_BFLOAT16 (1) for FLOAT)")),
        (TP(dims=[2], float_data=[1, 2], raw_data=b"\x00" * 8),
         "unnamed tensor has values in both float_data and raw_data"),
        (TP(dims=[1], data_type=TP.INT8, int32_data=[1], byte_data=b"\x01"),
         "unnamed tensor has values in both int32_data and byte_data"),
        (TP(dims=[2], data_type=TP.INT32, byte_data=b"\x00" * 8),
         "unnamed tensor (INT32) cannot use byte_data"),
        (TP(dims=[1], data_type=TP.STRING, raw_data=b"a"),
         "unnamed tensor (STRING) keeps its values in string_data only"),
        (TP(name="c", dims=[4], float_data=[1, 2], segment=TP.Segment(begin=2, end=4)),
         ("tensor 'c' holds only the chunk [2, 4) of 4 elements; "
         "chunked tensors are not supported")),
        (TP(dims=[2, -1]), "unnamed tensor has a negative dimension in dims [2, -1]"),
    ],
)  # fmt: skip
def test_malformed_tensors(tp, message):
    with pytest.raises(ProtoParseError) as info:
        tensor_to_numpy(tp)
    assert str(info.value) == message


BIG = 1 << 62


@pytest.mark.parametrize(
    "tp, message",
    [
        (TP(name="h", dims=[BIG, 4]),
         ("tensor 'h': the product of dims [4611686018427387904, 4] does not fit in int64 "
          "(expected at most 9223372036854775807 elements)")),
        # UNDEFINED with huge dims: the product is not read as 0 (an int64 wrap).
        (TP(dims=[1 << 32, 1 << 32], data_type=TP.UNDEFINED),
         ("unnamed tensor: the product of dims [4294967296, 4294967296] does not fit in "
          "int64 (expected at most 9223372036854775807 elements)")),
        (TP(dims=[1] * (limits.MAX_TENSOR_DIMS + 1)),
         (f"unnamed tensor has {limits.MAX_TENSOR_DIMS + 1} dims, more than the limit of "
          f"{limits.MAX_TENSOR_DIMS} (caffe2lite.io.limits.MAX_TENSOR_DIMS)")),
        (TP(dims=[-3] * 10),
         "unnamed tensor has a negative dimension in dims [-3, -3, -3, -3, -3, -3, -3, -3, ... (10 dims)]"),
        (TP(dims=[0, 1 << 31, 1 << 31]),
         ("unnamed tensor: dims [0, 2147483648, 2147483648] are too large for an array, "
          "even an empty one")),
        # A huge count is compared with the values present before anything is allocated.
        (TP(dims=[1 << 40], data_type=TP.STRING),
         ("unnamed tensor (STRING): string_data size does not match dims [1099511627776] "
          "(expected 1099511627776 values, found 0)")),
        (TP(dims=[1 << 40], data_type=TP.UINT8, raw_data=b"\x00"),
         ("unnamed tensor (UINT8): raw_data size does not match dims [1099511627776] "
          "(expected 1099511627776 bytes, found 1)")),
    ],
)  # fmt: skip
def test_dims_are_checked_before_allocating(tp, message):
    with pytest.raises(ProtoParseError) as info:
        tensor_to_numpy(tp)
    assert str(info.value) == message


def test_dims_at_the_limits():
    most = limits.MAX_TENSOR_DIMS  # numpy's own limit: 64 on numpy 2, 32 before
    assert tensor_to_numpy(TP(dims=[1] * most, float_data=[2.0])).shape == (1,) * most
    assert tensor_to_numpy(TP(dims=[0, 1 << 30, 1 << 30])).shape == (0, 1 << 30, 1 << 30)
    empty = tensor_to_numpy(TP(dims=[0, 1 << 40], data_type=TP.UNDEFINED))
    assert empty.shape == (0,) and empty.dtype == np.float32
    with pytest.raises(DTypeError, match="has data type UNDEFINED"):
        tensor_to_numpy(TP(dims=[1 << 20, 1 << 20], data_type=TP.UNDEFINED))
