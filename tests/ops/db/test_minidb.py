"""caffe2lite.io.db and caffe2lite.io.blobproto on their own: the minidb record
format, its errors, atomic writes, keys, and random round trips."""

from __future__ import annotations

import os
import stat
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caffe2lite.errors import EnforceError, ProtoParseError
from caffe2lite.io import db as dbio
from caffe2lite.io.blobproto import (
    blob_name_from_key,
    deserialize_records,
    deserialize_value,
    serialize_blob,
    serialize_value,
)
from caffe2lite.proto import caffe2_pb2


def test_record_layout():
    data = dbio.encode_minidb([("ab", b"xyz"), ("c", b"\x00")])
    assert data == (struct.pack("<ii", 2, 3) + b"abxyz" + struct.pack("<ii", 1, 1)
                    + b"c\x00")
    assert dbio.decode_minidb(data) == [("ab", b"xyz"), ("c", b"\x00")]
    assert dbio.decode_minidb(b"") == []


@pytest.mark.parametrize("data,message", [
    (b"\x01\x00", "truncated minidb record at offset 0: 2 bytes left"),
    (struct.pack("<ii", 0, 1) + b"v", "corrupt minidb record at offset 0: key length 0"),
    (struct.pack("<ii", 1, -5) + b"k", "value length -5 must both be > 0"),
    (struct.pack("<ii", 1, 1) + b"kv" + struct.pack("<ii", 4, 9) + b"key",
     "truncated minidb record at offset 10: it needs 21 bytes"),
    (struct.pack("<ii", 1, 1) + b"\xffv", "offset 0: the key is not UTF-8 text"),
])
def test_decode_errors_name_file_and_offset(data, message):
    with pytest.raises(ProtoParseError, match=f"f.minidb: .*{message}"):
        dbio.decode_minidb(data, "f.minidb")


def test_empty_key_or_value_cannot_be_written(tmp_path):
    with pytest.raises(EnforceError, match="1 to 2\\*\\*31 - 1 bytes"):
        dbio.write_db("minidb", str(tmp_path / "x"), [("", b"v")])
    with pytest.raises(EnforceError):
        dbio.write_db("minidb", str(tmp_path / "x"), [("k", b"")])
    assert not (tmp_path / "x").exists()


def test_atomic_write_permissions_and_missing_folder(tmp_path):
    path = tmp_path / "p.minidb"
    dbio.write_db("minidb", str(path), [("k", b"v")])
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    with pytest.raises(EnforceError, match="Cannot open file: .*nofolder"):
        dbio.write_db("minidb", str(tmp_path / "nofolder" / "x"), [("k", b"v")])


def test_unknown_type_lists_close_names():
    with pytest.raises(EnforceError, match="Cannot find db implementation of type lmbd.*"
                       "did you mean 'lmdb'"):
        dbio.read_db("lmbd", "x")


def test_reader_reads_when_asked(tmp_path):
    reader = dbio.DBReader("minidb", str(tmp_path / "later"))
    dbio.write_db("minidb", str(tmp_path / "later"), [("k", b"v")])
    assert reader.records == [("k", b"v")]


def test_keys_to_names():
    assert blob_name_from_key("w#%12") == "w"
    assert blob_name_from_key("a/b/w#%0", "b/") == "w"
    assert blob_name_from_key("w#%0", "zz", "p_") == "p_w"
    assert blob_name_from_key("plain") == "plain"


def test_whole_blob_serialization():
    value = np.arange(6, dtype=np.int16).reshape(2, 3)
    data = serialize_value("v", value)
    proto = caffe2_pb2.BlobProto.FromString(data)
    assert proto.name == "v" and proto.type == "Tensor"
    assert (proto.tensor.segment.begin, proto.tensor.segment.end) == (0, 6)
    np.testing.assert_array_equal(deserialize_value(data), value)
    assert deserialize_value(serialize_value("s", b"abc")) == b"abc"


def test_caffe2_variants_read():
    # older Caffe2: no segment, no device_detail, no data_format; byte_data for uint8
    tensor = caffe2_pb2.TensorProto(dims=[2, 2], data_type=caffe2_pb2.TensorProto.UINT8,
                                    byte_data=b"\x01\x02\x03\xff", name="u")
    proto = caffe2_pb2.BlobProto(name="u", type="Tensor", tensor=tensor)
    got = deserialize_records([("u", proto.SerializeToString())])["u"]
    np.testing.assert_array_equal(got, np.array([[1, 2], [3, 255]], np.uint8))
    # a chunk of a uint8 tensor in byte_data: its length is the segment's
    tensor.segment.begin, tensor.segment.end = 0, 2
    tensor.byte_data = b"\x07\x08"
    first = caffe2_pb2.BlobProto(name="u", type="Tensor", tensor=tensor)
    tensor.segment.begin, tensor.segment.end = 2, 4
    tensor.byte_data = b"\x09\x0a"
    second = caffe2_pb2.BlobProto(name="u", type="Tensor", tensor=tensor)
    got = deserialize_records([("u#%0", first.SerializeToString()),
                               ("u#%1", second.SerializeToString())])["u"]
    np.testing.assert_array_equal(got, np.array([[7, 8], [9, 10]], np.uint8))


def test_unknown_blob_type():
    proto = caffe2_pb2.BlobProto(name="q", type="MyCustomType", content=b"x")
    with pytest.raises(EnforceError, match="No registered deserializer for type "
                       "MyCustomType"):
        deserialize_records([("q", proto.SerializeToString())])


DTYPES = [np.float16, np.float32, np.float64, np.bool_, np.int8, np.int16, np.int32,
          np.int64, np.uint8, np.uint16]


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from(DTYPES + [object]),
       shape=st.lists(st.integers(0, 4), min_size=0, max_size=3),
       chunk=st.sampled_from([-1, 1, 2, 3, 7, 1000]), seed=st.integers(0, 2**16))
def test_random_round_trips(tmp_path_factory, dtype, shape, chunk, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    if dtype is object:
        arr = np.empty(n, dtype=object)
        arr[:] = [bytes(rng.integers(0, 256, rng.integers(0, 4)).astype(np.uint8))
                  for _ in range(n)]
        arr = arr.reshape(shape)
    else:
        arr = (rng.standard_normal(n) * 100).astype(dtype).reshape(shape)
    records = serialize_blob("b", arr, chunk)
    expected_chunks = 1 if chunk == -1 else max(1, -(-n // chunk))
    assert [k for k, _ in records] == [f"b#%{i}" for i in range(expected_chunks)]
    path = str(tmp_path_factory.mktemp("rt") / "db")
    dbio.write_db("minidb", path, records[::-1])  # any order reads back
    got = deserialize_records(dbio.read_db("minidb", path))["b"]
    assert got.dtype == arr.dtype and got.shape == arr.shape
    if dtype is object:
        assert got.tolist() == arr.tolist()
    else:
        np.testing.assert_array_equal(got, arr)
