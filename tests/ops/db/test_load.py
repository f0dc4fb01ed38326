"""Load: Caffe2's load_save_op_test cases, chunk checks, corrupt and truncated files,
DBReader inputs, load_all, allow_incomplete."""

from __future__ import annotations

import numpy as np
import pytest

from caffe2lite import workspace
from caffe2lite.core import CreateOperator
from caffe2lite.errors import EnforceError, ProtoParseError
from caffe2lite.io import db as dbio
from caffe2lite.io.blobproto import serialize_blob
from caffe2lite.io.db import DBReader
from caffe2lite.testing import check_raises

DTYPES = [np.float16, np.float32, np.float64, np.bool_, np.int8, np.int16, np.int32,
          np.int64, np.uint8, np.uint16]


def save_file(folder, name, start):
    """Caffe2's saveFile: ten 2x3 arrays of every dtype, blobs str(start + i)."""
    rng = np.random.default_rng(start)
    arrays = [rng.permutation(6).reshape(2, 3).astype(t) for t in DTYPES]
    for i, arr in enumerate(arrays):
        workspace.FeedBlob(str(i + start), arr)
    path = str(folder / name)
    workspace.RunOperatorOnce(CreateOperator(
        "Save", [str(i + start) for i in range(len(arrays))], [], absolute_path=1,
        db=path, db_type="minidb"))
    return path, arrays


def load(outputs, **args):
    args.setdefault("db_type", "minidb")
    return workspace.RunOperatorOnce(CreateOperator("Load", [], outputs, absolute_path=1,
                                                    **args))


def check_arrays(arrays, start=0):
    for i, arr in enumerate(arrays):
        got = workspace.FetchBlob(str(i + start))
        assert got.dtype == arr.dtype
        np.testing.assert_array_equal(got, arr)


def test_load_save_keep_device_and_load_all(ws_root):
    path, arrays = save_file(ws_root, "db", 0)
    names = [str(i) for i in range(len(arrays))]
    for keep_device, load_all, outputs in [(1, 0, names), (0, 0, names), (1, 1, []),
                                           (1, 1, []), (0, 1, names)]:
        workspace.ResetWorkspace(str(ws_root))
        load(outputs, db=path, keep_device=keep_device, load_all=load_all)
        assert workspace.Blobs() == sorted(names)
        check_arrays(arrays)


def test_load_excess_blobs(ws_root):
    path, arrays = save_file(ws_root, "db", 0)
    n = len(arrays)
    with pytest.raises(EnforceError, match="Duplicated source blob name: 0"):
        load([str(i) for i in range(n)] * 2, db=path)
    workspace.ResetWorkspace(str(ws_root))
    with pytest.raises(EnforceError, match=f"Output blob name {n} does not exist in the "
                       r"db\(s\)."):
        load([str(n - 1), str(n)], db=path, load_all=1)
    assert workspace.Blobs() == []  # a failing load_all stores nothing
    with pytest.raises(EnforceError, match=f"Output blob name {n} does not exist"):
        load([str(n), str(n + 1)], db=path, load_all=1)


def test_truncated_file(ws_root):
    # Caffe2's testTruncatedFile: the file emptied, then 20 zero bytes
    path, arrays = save_file(ws_root, "db", 0)
    with open(path, "wb+") as f:
        f.seek(20)
        f.truncate()
    names = [str(i) for i in range(len(arrays))]
    with pytest.raises(ProtoParseError, match=f"{path}: corrupt minidb record at offset 0"):
        load(names, db=path)
    with pytest.raises(ProtoParseError):
        load([], db=path, load_all=1)


@pytest.mark.parametrize("cut", [1, 3, 7, 9, 30])
def test_cut_anywhere_gives_offset(ws_root, cut):
    path, _arrays = save_file(ws_root, "db", 0)
    data = (ws_root / "db").read_bytes()
    records = dbio.decode_minidb(data)
    last = len(data) - (8 + len(records[-1][0]) + len(records[-1][1]))
    (ws_root / "db").write_bytes(data[:-cut])
    with pytest.raises(ProtoParseError, match=f"{path}: truncated minidb record at "
                       f"offset {last}"):
        load([], db=path, load_all=1)


def test_corrupt_value_is_a_parse_error(ws_root):
    path = str(ws_root / "bad")
    good = serialize_blob("w", np.ones(2, np.float32))
    dbio.write_db("minidb", path, good + [("x#%0", b"\xff\xff\xff")])
    offset = 8 + 4 + len(good[0][1])
    with pytest.raises(ProtoParseError, match=r"Couldn't parse Proto: .*bad, record at "
                       f"offset {offset}, key 'x#%0'"):
        load(["x"], db=path)


def test_blob_name_overrides_and_source_blob_names(ws_root):
    blobs = [np.random.default_rng(i).permutation(6) for i in range(3)]
    original, new = ["blob_a", "blob_b", "blob_c"], ["x", "y", "z"]
    for name, blob in zip(original, blobs):
        workspace.FeedBlob(name, blob)
    path = str(ws_root / "db")
    with pytest.raises(EnforceError):
        workspace.RunOperatorOnce(CreateOperator(
            "Save", original, [], absolute_path=1, strip_prefix=".temp",
            blob_name_overrides=new, db=path, db_type="minidb"))
    workspace.RunOperatorOnce(CreateOperator(
        "Save", original, [], absolute_path=1, blob_name_overrides=new, db=path,
        db_type="minidb"))
    workspace.ResetWorkspace(str(ws_root))
    load([], db=path, load_all=1)
    assert workspace.Blobs() == new
    load(["blob_x"], db=path, source_blob_names=["x"])
    assert len(workspace.Blobs()) == 4
    load(["blob_x", "blob_y", "blob_z"], db=path, source_blob_names=new)
    assert len(workspace.Blobs()) == 6
    for name, blob in zip(["blob_x", "blob_y", "blob_z"], blobs):
        np.testing.assert_array_equal(workspace.FetchBlob(name), blob)


def test_missing_file(ws_root):
    with pytest.raises(EnforceError, match="Cannot open file: .*missing_db"):
        load([], db=str(ws_root / "missing_db"), load_all=1)


def test_multiple_files(ws_root):
    path1, arrays1 = save_file(ws_root, "db1", 0)
    path2, arrays2 = save_file(ws_root, "db2", len(arrays1))
    names = [str(i) for i in range(len(arrays1) + len(arrays2))]
    workspace.ResetWorkspace(str(ws_root))
    load(names, dbs=[path1, path2], source_blob_names=names)
    check_arrays(arrays1 + arrays2)
    workspace.ResetWorkspace(str(ws_root))
    load([], dbs=[path1, path2], load_all=1)
    assert len(workspace.Blobs()) == len(names)
    check_arrays(arrays1 + arrays2)


def test_same_key_in_two_files(ws_root):
    path1, _ = save_file(ws_root, "db1", 0)
    path2, _ = save_file(ws_root, "db2", 0)
    workspace.ResetWorkspace(str(ws_root))
    with pytest.raises(EnforceError, match="Duplicate Key 0 is found!"):
        load([], dbs=[path1, path2], load_all=1)
    with pytest.raises(EnforceError, match="Duplicated db name: "):
        load(["0"], dbs=[path1, path1])


def test_allow_incomplete_keeps_old_values(ws_root):
    path, arrays = save_file(ws_root, "db", 0)
    workspace.ResetWorkspace(str(ws_root))
    workspace.FeedBlob("old", np.array([7.0]))
    with pytest.raises(EnforceError, match="Expected to load 2 blobs, got 1 only."):
        load(["0", "old"], db=path)
    load(["0", "old", "new"], db=path, allow_incomplete=True)
    np.testing.assert_array_equal(workspace.FetchBlob("old"), [7.0])
    check_arrays(arrays[:1])
    with pytest.raises(Exception, match="empty"):
        workspace.FetchBlob("new")


def test_prefixes(ws_root):
    workspace.FeedBlob("gpu_0/fc_w", np.ones(3, np.float32))
    path = str(ws_root / "db")
    workspace.RunOperatorOnce(CreateOperator("Save", ["gpu_0/fc_w"], [], absolute_path=1,
                                             db=path, db_type="minidb"))
    load(["m/fc_w"], db=path, strip_prefix="gpu_0/", add_prefix="m/")
    np.testing.assert_array_equal(workspace.FetchBlob("m/fc_w"), np.ones(3))


def chunk_records(name, arr, chunk_size):
    return serialize_blob(name, arr, chunk_size)


def test_chunks_in_any_order_and_from_readers():
    arr = np.arange(10, dtype=np.float64).reshape(5, 2)
    records = chunk_records("x", arr, 3)[::-1]
    reader = DBReader.from_records(records)
    workspace_blobs = {"r": reader}  # a reader stands in the blob dict as in Caffe2
    from caffe2lite.runtime.net import run_operator_once

    run_operator_once(CreateOperator("Load", ["r"], ["x"]), workspace_blobs)
    np.testing.assert_array_equal(workspace_blobs["x"], arr)


@pytest.mark.parametrize("mutate,message", [
    (lambda r: r[:-1], "Data size mismatch for blob x. Expected: 10 Read: 9"),
    (lambda r: r + r[-1:], "Found an extra part for an already filled tensor: x"),
    (lambda r: r + serialize_blob("x", b"s"), "Blob duplicated: x|Must be tensor x"),
])
def test_chunk_errors(mutate, message):
    arr = np.arange(10, dtype=np.int32)
    records = mutate(chunk_records("x", arr, 3))
    blobs = {"r": DBReader.from_records(records)}
    from caffe2lite.runtime.net import run_operator_once

    with pytest.raises(EnforceError, match=message):
        run_operator_once(CreateOperator("Load", ["r"], ["x"], load_all=1), blobs)
    assert set(blobs) == {"r"}


def test_overlapping_chunks_are_refused():
    a = chunk_records("x", np.arange(4, dtype=np.int32), 2)
    from caffe2lite.runtime.net import run_operator_once

    # [0, 2) twice: the sizes add up to 4 (all Caffe2 counted), elements 2..3 are missing
    blobs = {"r": DBReader.from_records([a[0], a[0]])}
    with pytest.raises(ProtoParseError, match="chunks overlap or leave a gap at element 0"):
        run_operator_once(CreateOperator("Load", ["r"], ["x"]), blobs)
    # [0, 2) then [0, 3): more than the tensor holds
    b = chunk_records("x", np.arange(4, dtype=np.int32), 3)
    blobs = {"r": DBReader.from_records([a[0], b[0]])}
    with pytest.raises(EnforceError, match="Tensor parts are bigger than target size for "
                       "tensor: x"):
        run_operator_once(CreateOperator("Load", ["r"], ["x"]), blobs)


def test_argument_errors():
    check_raises(CreateOperator("Load", [], ["x"], db="d"), [], EnforceError,
                 "Must specify a db type.")
    check_raises(CreateOperator("Load", [], ["x"], db_type="minidb"), [], EnforceError,
                 "Must specify a db name.")
    check_raises(CreateOperator("Load", [], ["x"], db_type="minidb", dbs=["a", ""]), [],
                 EnforceError, "Db name should not be empty.")
    check_raises(CreateOperator("Load", [], ["x"], db="d", db_type="minidb",
                                source_blob_names=["a", "b"]), [], EnforceError,
                 "Number of output blobs and source_blob_names mismatch.")
    check_raises(CreateOperator("Load", [], ["x"], db="d", db_type="minidb",
                                source_blob_names=["a"], strip_prefix="p"), [],
                 EnforceError, "strip_prefix and source_blob_names are mutually exclusive.")
    check_raises(CreateOperator("Load", [], ["x"], db="d", db_type="minidb",
                                source_blob_names=["a"], load_all=1), [], EnforceError,
                 "cannot load_all_ while using source_blob_names.")
    check_raises(CreateOperator("Load", ["r"], ["x"]), [np.ones(1)], EnforceError,
                 "Load's inputs must be DBReaders")


def test_shape_function():
    from caffe2lite.inference import infer_op
    from caffe2lite.schema.shapes import TensorShape

    op = CreateOperator("Load", [], ["x"], db="d", db_type="minidb", shape=[2, 3])
    assert infer_op(op, []) == [TensorShape((2, 3), np.float32)] or tuple(
        infer_op(op, [])) == (TensorShape((2, 3), np.float32),)
    op = CreateOperator("Load", [], ["x", "y"], db="d", db_type="minidb", shape=[2])
    assert all(s.dims is None for s in infer_op(op, []))


@pytest.mark.parametrize("db_type", ["lmdb", "leveldb", "rocksdb"])
def test_other_db_types(ws_root, db_type):
    pytest.importorskip({"lmdb": "lmdb", "leveldb": "plyvel", "rocksdb": "rocksdict"}[db_type])
    _path, arrays = save_file(ws_root, "kv", 0)
    for i in range(len(arrays)):
        workspace.FeedBlob(str(i), arrays[i])
    workspace.RunOperatorOnce(CreateOperator(
        "Save", [str(i) for i in range(len(arrays))], [], absolute_path=1,
        db=str(ws_root / db_type), db_type=db_type, chunk_size=4))
    # a second save replaces the first one's records in one transaction
    workspace.RunOperatorOnce(CreateOperator(
        "Save", [str(i) for i in range(len(arrays))], [], absolute_path=1,
        db=str(ws_root / db_type), db_type=db_type))
    keys = [k for k, _ in dbio.read_db(db_type, str(ws_root / db_type))]
    assert len(keys) == len(arrays)
    workspace.ResetWorkspace(str(ws_root))
    load([], db=str(ws_root / db_type), db_type=db_type, load_all=1)
    check_arrays(arrays)


def test_missing_binding_names_the_extra(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_rocksdict(name, *a, **k):
        if name == "rocksdict":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_rocksdict)
    with pytest.raises(dbio.MissingDBBindingError,
                       match=r'pip install "caffe2lite\[rocksdb\]"'):
        dbio.write_db("rocksdb", "/nonexistent/x", [("k", b"v")])
