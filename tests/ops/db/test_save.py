"""Save: Caffe2's minidb bytes (built here by hand from the format), every dtype,
chunking, names, atomic writes, errors."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

from caffe2lite import workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import ArgumentError, BlobTypeError, EnforceError
from caffe2lite.io import db as dbio
from caffe2lite.io.blobproto import deserialize_records
from caffe2lite.testing import check_raises

DTYPES = [np.float16, np.float32, np.float64, np.bool_, np.int8, np.int16, np.int32,
          np.int64, np.uint8, np.uint16]


def record(key: bytes, value: bytes) -> bytes:
    """One minidb record: little-endian int32 key length, int32 value length, key, value."""
    return struct.pack("<i", len(key)) + struct.pack("<i", len(value)) + key + value


def field(number: int, wire: int, payload: bytes) -> bytes:
    """A protobuf field whose tag fits one byte; length-delimited payloads get a
    one-byte length (all payloads here are short)."""
    tag = bytes([number << 3 | wire])
    return tag + (bytes([len(payload)]) + payload if wire == 2 else payload)


def tensor_blob(name: bytes, tensor: bytes) -> bytes:
    return field(1, 2, name) + field(2, 2, b"Tensor") + field(3, 2, tensor)


CPU_DEVICE = field(8, 2, b"\x08\x00")  # device_detail { device_type: 0 }


def save(names, path, **args):
    workspace.RunOperatorOnce(CreateOperator(
        "Save", names, [], db=str(path), db_type="minidb", absolute_path=1, **args))


def test_float_tensor_bytes(ws_root):
    workspace.FeedBlob("x", np.array([1.5], np.float32))
    save(["x"], ws_root / "f.minidb")
    tensor = (b"\x08\x01"  # dims: 1
              + b"\x10\x01"  # data_type: FLOAT
              + field(3, 2, b"\x00\x00\xc0\x3f")  # float_data (packed): 1.5
              + field(7, 2, b"x")  # name
              + CPU_DEVICE
              + field(11, 2, b"\x08\x00\x10\x01")  # segment { begin: 0 end: 1 }
              + b"\x78\x00")  # data_format: FMT_PROTOBUF
    want = record(b"x#%0", tensor_blob(b"x", tensor))
    assert (ws_root / "f.minidb").read_bytes() == want
    assert want[:8] == b"\x04\x00\x00\x00\x26\x00\x00\x00"


def test_int64_string_and_chunked_bytes(ws_root):
    workspace.FeedBlob("y", np.array([3, 300], np.int64))
    workspace.FeedBlob("s", b"hi")
    workspace.FeedBlob("z", np.array([5, 6, 7], np.int32))
    save(["y", "s", "z"], ws_root / "m.minidb", chunk_size=2)
    # fields go out in number order: int64_data (10) after device_detail (8)
    y = (b"\x08\x02" + b"\x10\x0a" + field(7, 2, b"y") + CPU_DEVICE
         + field(10, 2, b"\x03\xac\x02") + field(11, 2, b"\x08\x00\x10\x02"))
    s = field(1, 2, b"s") + field(2, 2, b"std::string") + field(4, 2, b"hi")

    def z_chunk(values: bytes, begin: int, end: int) -> bytes:
        return tensor_blob(b"z", b"\x08\x03" + b"\x10\x02" + field(4, 2, values)
                           + field(7, 2, b"z") + CPU_DEVICE
                           + field(11, 2, bytes([8, begin, 16, end])))

    want = (record(b"y#%0", tensor_blob(b"y", y)) + record(b"s", s)
            + record(b"z#%0", z_chunk(b"\x05\x06", 0, 2))
            + record(b"z#%1", z_chunk(b"\x07", 2, 3)))
    assert (ws_root / "m.minidb").read_bytes() == want


def test_empty_and_scalar_tensor_bytes(ws_root):
    workspace.FeedBlob("e", np.zeros((0, 2), np.float32))
    workspace.FeedBlob("c", np.array(7, np.int32))
    save(["e", "c"], ws_root / "e.minidb")
    e = (b"\x08\x00\x08\x02\x10\x01" + field(7, 2, b"e") + CPU_DEVICE
         + field(11, 2, b"\x08\x00\x10\x00") + b"\x78\x00")
    c = (b"\x10\x02" + field(4, 2, b"\x07") + field(7, 2, b"c") + CPU_DEVICE
         + field(11, 2, b"\x08\x00\x10\x01"))
    want = record(b"e#%0", tensor_blob(b"e", e)) + record(b"c#%0", tensor_blob(b"c", c))
    assert (ws_root / "e.minidb").read_bytes() == want


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(ws_root, dtype):
    arr = np.random.default_rng(0).permutation(6).reshape(2, 3).astype(dtype)
    workspace.FeedBlob("a", arr)
    save(["a"], ws_root / "d.minidb")
    workspace.ResetWorkspace(str(ws_root))
    workspace.RunOperatorOnce(CreateOperator("Load", [], ["a"], db="d.minidb",
                                             db_type="minidb"))
    got = workspace.FetchBlob("a")
    assert got.dtype == arr.dtype and got.shape == arr.shape
    np.testing.assert_array_equal(got, arr)


def test_round_trip_extreme_values(ws_root):
    values = {
        "i8": np.array([-128, 127], np.int8), "u16": np.array([0, 65535], np.uint16),
        "i64": np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max]),
        "f16": np.array([np.inf, -0.0, 65504], np.float16),
        "f64": np.array([np.nan, 1e-300, -np.inf]),
        "strs": np.array([b"", b"\x00\xff", "\u00e9".encode()], dtype=object),
        "blob": b"\x00raw bytes\xff",
    }
    for name, value in values.items():
        workspace.FeedBlob(name, value)
    save(list(values), ws_root / "x.minidb", chunk_size=1)
    loaded = deserialize_records(dbio.read_db("minidb", str(ws_root / "x.minidb")))
    for name, value in values.items():
        if isinstance(value, bytes):
            assert loaded[name] == value
        else:
            assert loaded[name].dtype == value.dtype
            np.testing.assert_array_equal(loaded[name], value)


@pytest.mark.parametrize("chunk_size,chunks", [(32, 39), (-1, 1), (0, 1), (1234, 1),
                                               (1233, 2)])
def test_chunk_counts(ws_root, chunk_size, chunks):
    # Caffe2's testSaveWithChunkSize: 1234 elements in ceil(1234 / chunk_size) chunks
    arrays = {f"{np.dtype(t).name}_data": np.arange(1234).astype(t)
              for t in (np.int8, np.int64, np.float16, np.float32)}
    for name, arr in arrays.items():
        workspace.FeedBlob(name, arr)
    save(list(arrays), ws_root / "c.minidb", chunk_size=chunk_size)
    records = dbio.read_db("minidb", str(ws_root / "c.minidb"))
    for name, arr in arrays.items():
        keys = [k for k, _ in records if k.rsplit("#%", 1)[0] == name]
        assert keys == [f"{name}#%{i}" for i in range(chunks)]
    loaded = deserialize_records(records)
    for name, arr in arrays.items():
        np.testing.assert_array_equal(loaded[name], arr)


def test_default_chunk_size_is_one_million(ws_root):
    workspace.FeedBlob("big", np.zeros(1_000_010, np.uint8))
    save(["big"], ws_root / "b.minidb")
    keys = [k for k, _ in dbio.read_db("minidb", str(ws_root / "b.minidb"))]
    assert keys == ["big#%0", "big#%1"]


def test_relative_path_is_inside_the_root_folder(ws_root):
    workspace.FeedBlob("x", np.ones(2, np.float32))
    workspace.RunOperatorOnce(CreateOperator("Save", ["x"], [], db="r.minidb",
                                             db_type="minidb"))
    assert (ws_root / "r.minidb").is_file()


def test_strip_prefix_and_overrides(ws_root):
    workspace.FeedBlob("gpu_0/w", np.ones(2, np.float32))
    workspace.FeedBlob("gpu_0/b", np.zeros(2, np.float32))
    save(["gpu_0/w", "gpu_0/b"], ws_root / "p.minidb", strip_prefix="gpu_0/")
    keys = [k for k, _ in dbio.read_db("minidb", str(ws_root / "p.minidb"))]
    assert keys == ["w#%0", "b#%0"]
    save(["gpu_0/w", "gpu_0/b"], ws_root / "o.minidb", blob_name_overrides=["W", "B"])
    keys = [k for k, _ in dbio.read_db("minidb", str(ws_root / "o.minidb"))]
    assert keys == ["W#%0", "B#%0"]


def test_save_replaces_the_whole_db(ws_root):
    workspace.FeedBlob("a", np.ones(1, np.float32))
    workspace.FeedBlob("b", np.ones(1, np.float32))
    save(["a", "b"], ws_root / "db")
    save(["b"], ws_root / "db")
    assert [k for k, _ in dbio.read_db("minidb", str(ws_root / "db"))] == ["b#%0"]


def test_crash_mid_write_leaves_the_old_file(ws_root, monkeypatch):
    path = ws_root / "model.minidb"
    workspace.FeedBlob("w", np.arange(4, dtype=np.float32))
    save(["w"], path)
    old = path.read_bytes()

    def crash(tmp):
        assert os.path.dirname(tmp) == str(ws_root) and os.path.getsize(tmp) > 0
        raise KeyboardInterrupt("simulated crash before the rename")

    with pytest.raises(KeyboardInterrupt):
        dbio.write_db("minidb", str(path), [("w#%0", b"new")], _before_rename=crash)
    assert path.read_bytes() == old
    assert sorted(os.listdir(ws_root)) == ["model.minidb"]  # no temporary left

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    workspace.FeedBlob("w", np.zeros(4, np.float32))
    with pytest.raises(Exception, match="No space left"):
        save(["w"], path)
    assert path.read_bytes() == old
    assert sorted(os.listdir(ws_root)) == ["model.minidb"]


def test_errors():
    x = np.ones(2, np.float32)
    check_raises(CreateOperator("Save", ["x"], [], db="d"), [x], EnforceError,
                 "Must specify a db type.")
    check_raises(CreateOperator("Save", ["x"], [], db_type="minidb"), [x], EnforceError,
                 "Must specify a db name.")
    check_raises(CreateOperator("Save", ["x"], [], db="d", db_type="minidb",
                                blob_name_overrides=["a", "b"]), [x], EnforceError,
                 "Number of blobs and blob_name_overrides mismatch.")
    check_raises(CreateOperator("Save", ["x"], [], db="d", db_type="minidb",
                                strip_prefix=".temp", blob_name_overrides=["a"]), [x],
                 EnforceError, "strip_prefix and blob_name_overrides are mutually exclusive.")
    check_raises(CreateOperator("Save", ["a/x", "b/x"], [], db="d", db_type="minidb",
                                strip_prefix="/"), [x, x], EnforceError,
                 "Duplicated input: x")
    check_raises(CreateOperator("Save", ["x"], [], db="d", db_type="minidb",
                                chunk_size=-3), [x], ArgumentError, "chunk_size")
    check_raises(CreateOperator("Save", ["x"], [], db="d", db_type="minidbb"), [x],
                 EnforceError, "Cannot find db implementation of type minidbb.*did you mean")


def test_repeated_inputs_fail(ws_root):
    # Caffe2's testRepeatedArgs: the same blobs twice
    for i in range(3):
        workspace.FeedBlob(str(i), np.ones(2))
    with pytest.raises(EnforceError, match="Duplicated input: 0"):
        save(["0", "1", "2"] * 2, ws_root / "db")
    assert not (ws_root / "db").exists()


def test_non_tensor_blob_fails(ws_root):
    workspace.FeedBlob("x", np.ones(1))
    workspace.CreateBlob("empty")
    with pytest.raises(Exception, match="empty"):
        save(["x", "empty"], ws_root / "db")
    with pytest.raises(BlobTypeError):
        from caffe2lite.io.blobproto import serialize_blob

        serialize_blob("o", object())


def test_serialization_options(ws_root):
    # Caffe2's testSaveWithOptions: the first matching regex wins; chunk_size the rest
    from caffe2lite.io.blobproto import BlobSerializationOptions as B
    from caffe2lite.io.blobproto import SerializationOptions

    n = 1234
    names = ["int16_data", "uint16_data", "float16_data", "int64_data"]
    for name in names:
        workspace.FeedBlob(name, np.arange(n).astype(name.split("_")[0]))
    options = SerializationOptions(options=[
        B(blob_name_regex="int16_data", chunk_size=10),
        B(blob_name_regex=".*16_data", chunk_size=20),
        B(blob_name_regex="float16_data", chunk_size=30)])
    save(names, ws_root / "o.minidb", chunk_size=40, options=options)
    records = dbio.read_db("minidb", str(ws_root / "o.minidb"))
    counts = {name: sum(k.rsplit("#%", 1)[0] == name for k, _ in records) for name in names}
    assert counts == {"int16_data": -(-n // 10), "uint16_data": -(-n // 20),
                      "float16_data": -(-n // 20), "int64_data": -(-n // 40)}
    loaded = deserialize_records(records)
    for name in names:
        np.testing.assert_array_equal(loaded[name], np.arange(n).astype(name.split("_")[0]))


def test_float_to_bfloat16(ws_root):
    # Caffe2's testSaveFloatToBfloat16: float1 as bfloat16 is about half the size
    from caffe2lite.io.blobproto import BlobSerializationOptions as B
    from caffe2lite.io.blobproto import SerializationOptions

    data = np.random.default_rng(0).random(4000).astype(np.float32)
    workspace.FeedBlob("float1", data)
    workspace.FeedBlob("float2", data)
    save(["float1", "float2"], ws_root / "b.minidb", options=SerializationOptions(
        options=[B(blob_name_regex="float1", float_format=B.FLOAT_BFLOAT16)]))
    records = dict(dbio.read_db("minidb", str(ws_root / "b.minidb")))
    assert len(records["float1#%0"]) < 0.6 * len(records["float2#%0"])
    loaded = deserialize_records(records.items())
    np.testing.assert_array_equal(loaded["float2"], data)
    np.testing.assert_array_almost_equal(loaded["float1"], data, decimal=2)
    # round to nearest by adding 2**15 to the bits: 1 + 2**-8 (a tie) rounds up
    bits = np.array([0x3F808000, 0x3F807FFF], np.uint32).view(np.float32)
    workspace.FeedBlob("t", bits)
    save(["t"], ws_root / "t.minidb", options=SerializationOptions(
        options=[B(float_format=B.FLOAT_BFLOAT16)]))
    got = deserialize_records(dbio.read_db("minidb", str(ws_root / "t.minidb")))["t"]
    assert got.view(np.uint32).tolist() == [0x3F810000, 0x3F800000]


def test_bad_options():
    x = np.ones(2, np.float32)
    check_raises(CreateOperator("Save", ["x"], [], db="d", db_type="minidb",
                                options=b"\xff\xff"), [x], EnforceError,
                 "unable to parse serialization options")
