"""Load: read blobs from DBs (Caffe2's LoadOp)."""

from __future__ import annotations

import json

import numpy as np

from caffe2lite.errors import EnforceError
from caffe2lite.io.blobproto import BlobAssembler, serialize_blob
from caffe2lite.io.db import DBReader, read_db
from caffe2lite.io.tensor import dtype_from_name_or_enum
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ._common import GENERATOR_RECORD, full_db_name, owner, require

_EXAMPLE_X = np.array([[1, 2, 3]], np.int64)


def load_shape(*inputs, shape, dtype, num_outputs) -> tuple:
    """Caffe2's LoadTensorInference: ``shape`` (and ``dtype``, FLOAT by default) gives
    the one output's shape; otherwise every output is unknown."""
    if num_outputs == 1 and shape:
        return (TensorShape(tuple(shape), dtype_from_name_or_enum(dtype)),)
    return tuple(TensorShape() for _ in range(num_outputs))


@register_cpu_operator(
    "Load",
    inputs=["X, Y, ..."],
    outputs=[],
    num_inputs=(0, None),
    num_outputs=(0, None),
    args=[
        Arg("absolute_path", int, 0),
        Arg("add_prefix", str, ""),
        Arg("strip_prefix", str, ""),
        Arg("db", str, ""),
        Arg("dbs", "strings", []),
        Arg("db_type", str, ""),
        Arg("keep_device", int, 0),
        Arg("load_all", int, 0),
        Arg("allow_incomplete", bool, False),
        Arg("source_blob_names", "strings", []),
        Arg("shape", "ints", []),
        Arg("dtype", int, 1),
    ],
    shape=load_shape,
    example=Example({"reader": DBReader.from_records(serialize_blob("X", _EXAMPLE_X))},
                    {"X": _EXAMPLE_X}, {"shape": [1, 3], "dtype": 10}),
    doc="""Load blobs from one DB (``db``), several (``dbs``) or the DBReaders given as
inputs, of type ``db_type`` (minidb, lmdb, leveldb, rocksdb). A relative path is
taken inside the workspace's root folder unless ``absolute_path`` is set.

A DB key names its blob: the part before ``#%`` (the chunk index), with everything
up to and including the first ``strip_prefix`` removed and ``add_prefix`` put in
front. Output i is loaded from the blob named ``source_blob_names[i]``, or by its own
name; the chunks of a tensor are joined. Without ``allow_incomplete`` every output
must be found (``Expected to load N blobs, got K only.``); an output that is not
found keeps its old value. With ``load_all`` every blob of the DBs is loaded into the
workspace under its name (the outputs, which must all be among them, as outputs;
the other blobs are stored into the workspace's blob dict by the op, after every
check has passed, so a failing Load changes nothing). A blob found in two DBs is an
error (``Duplicate Key <name> is found!``), as are incomplete or overfull chunked
tensors (Caffe2's messages). ``keep_device`` is accepted: every blob loads on the
CPU. With ``load_all``, the record ``!!GENERATOR_STATES`` that ``Checkpoint`` writes
is not stored as a blob: it gives the workspace's random ops back the generator
states they had (nets created later get theirs when created), so a resumed run
equals an uninterrupted one; a state that does not fit the nets is an error and
changes nothing. ``shape`` and ``dtype`` only inform shape inference of a single output.

Example: a DB holding X=[[1, 2, 3]] (int64) -> X=[[1, 2, 3]] (int64)""",
)
def load(*readers, absolute_path, add_prefix, strip_prefix, db, dbs, db_type,
         keep_device, load_all, allow_incomplete, source_blob_names, shape, dtype,
         op_def, outputs) -> tuple:
    """Match DB records to the outputs, join chunks, check completeness."""
    out_names = list(op_def.output)
    db_names = _db_names(readers, db, dbs, db_type)
    names = _source_names(out_names, source_blob_names, strip_prefix, load_all)
    wanted = set(names)
    asm = BlobAssembler(strip_prefix, add_prefix)
    db_of: dict[str, int] = {}
    for index, (label, records, minidb) in enumerate(_sources(readers, db_names, db_type,
                                                              absolute_path, outputs)):
        offset = 0
        for key, value in records:
            at = offset
            if minidb:  # where the record starts in the file, for error messages
                offset += 8 + len(key.encode("utf-8")) + len(value)
            name = asm.name_of(key)
            if not load_all and name not in wanted:
                continue
            if db_of.setdefault(name, index) != index:
                raise EnforceError(f"Duplicate Key {name} is found!\n", blob=name)
            asm.add(key, value, f"{label}, record at offset {at}, key {key!r}"
                    if minidb else f"{label}, key {key!r}")
            if not load_all and asm.loaded == len(out_names):
                break
    values = asm.finish()
    blobs = getattr(outputs, "blobs", None)
    if load_all:
        for name in out_names:
            if name not in values:
                raise EnforceError(f"Output blob name {name} does not exist in the db(s).",
                                   blob=name)
        if GENERATOR_RECORD in values and GENERATOR_RECORD not in out_names:
            _restore_generators(values.pop(GENERATOR_RECORD), outputs, db_names)
        extra = {n: v for n, v in values.items() if n not in set(out_names)}
        if extra and blobs is None:
            raise EnforceError("load_all stores blobs into a workspace, and this Load "
                               "runs without one", found=f"{len(extra)} blobs to store")
        if extra:
            blobs.update(extra)  # every check has passed
        return tuple(values[n] for n in out_names)
    if asm.loaded != len(out_names) and not allow_incomplete:
        raise EnforceError(f"Expected to load {len(out_names)} blobs, got {asm.loaded} "
                           "only.\n", expected=f"{len(out_names)} blobs",
                           found=f"{asm.loaded}")
    previous = blobs if blobs is not None else {}
    return tuple(values[src] if src in values else previous.get(out)
                 for src, out in zip(names, out_names))


def _db_names(readers: tuple, db: str, dbs: list[str], db_type: str) -> list[str]:
    if readers:
        return []
    require(db_type, "Must specify a db type.", "db_type")
    if not dbs:
        require(db, "Must specify a db name.", "db")
        return [db]
    seen: set[str] = set()
    for name in dbs:
        require(name, "Db name should not be empty.", "dbs")
        if name in seen:
            raise EnforceError(f"Duplicated db name: {name}", arg="dbs")
        seen.add(name)
    return list(dbs)


def _source_names(out_names: list[str], source_blob_names: list[str], strip_prefix: str,
                  load_all: int) -> list[str]:
    if source_blob_names and len(source_blob_names) != len(out_names):
        raise EnforceError("Number of output blobs and source_blob_names mismatch.",
                           arg="source_blob_names", expected=f"{len(out_names)} names",
                           found=len(source_blob_names))
    if source_blob_names and strip_prefix:
        raise EnforceError("strip_prefix and source_blob_names are mutually exclusive.",
                           arg="strip_prefix")
    if source_blob_names and load_all:
        raise EnforceError("cannot load_all_ while using source_blob_names.",
                           arg="load_all")
    if load_all:
        return out_names
    names = list(source_blob_names) or out_names
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise EnforceError(f"Duplicated source blob name: {name}", blob=name)
        seen.add(name)
    return names


def _sources(readers: tuple, db_names: list[str], db_type: str, absolute_path: int,
             outputs):
    for i, reader in enumerate(readers):
        if not isinstance(reader, DBReader):
            raise EnforceError("Load's inputs must be DBReaders", blob=f"input {i}",
                               expected="a DBReader", found=type(reader).__name__)
        yield reader.source, reader.records, reader.db_type == "minidb"
    for name in db_names:
        path = full_db_name(name, absolute_path, outputs)
        yield path, read_db(db_type, path), db_type == "minidb"


no_gradient("Load")


def _restore_generators(record: object, outputs: object, db_names: list[str]) -> None:
    """Give the workspace's operators the generator states a Checkpoint saved (all
    checked before any is set; a kernel called alone has none to restore)."""
    ws = owner(outputs)
    if ws is None:
        return
    source = f"{', '.join(db_names) or 'the DB'}: record {GENERATOR_RECORD}"
    try:
        text = record.decode("utf-8") if isinstance(record, bytes) else record
        states = json.loads(text)
    except (UnicodeDecodeError, ValueError, TypeError, RecursionError) as e:
        raise EnforceError(f"{source} is not the JSON Checkpoint writes: {e}",
                           blob=GENERATOR_RECORD, expected="JSON generator states",
                           found=type(record).__name__) from None
    ws.set_generator_states(states, source)
