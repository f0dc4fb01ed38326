"""CreateDB: a DBReader blob on a DB (Caffe2's CreateDBOp)."""

from __future__ import annotations

import os
import tempfile

from caffe2lite.errors import EnforceError
from caffe2lite.io.db import DBReader
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

_EXAMPLE_DB = os.path.join(tempfile.gettempdir(), "caffe2lite_create_db_example.minidb")


def create_db_shape(**kwargs) -> tuple:
    """A DBReader is not a tensor: its shape and type are unknown."""
    return (TensorShape(),)


@register_cpu_operator(
    "CreateDB",
    inputs=[],
    outputs=["reader"],
    num_inputs=0,
    num_outputs=1,
    args=[Arg("db_type", str, "leveldb"), Arg("db", str, ""), Arg("num_shards", int, 1),
          Arg("shard_id", int, 0)],
    shape=create_db_shape,
    example=Example({}, {"reader": DBReader("minidb", _EXAMPLE_DB)},
                    {"db": _EXAMPLE_DB, "db_type": "minidb"}),
    doc="""A DBReader blob on the DB ``db`` (the path as given, not inside the root
folder) of type ``db_type`` (default leveldb, as in Caffe2), for Load to read from
(``Load([reader], [...])``, as Caffe2's predictor DBs are read). The DB is read when
Load first reads the reader (Caffe2 opened it here), so a missing DB fails at that
Load. ``num_shards`` and ``shard_id`` are accepted; Load reads every record, as
Caffe2's Load did through the reader's cursor.

Example: db='/tmp/model.minidb', db_type='minidb' -> reader=DBReader('minidb', '/tmp/model.minidb')""",
)
def create_db(*, db_type, db, num_shards, shard_id) -> tuple:
    """A reader on ``db``."""
    if not db:
        raise EnforceError("Must specify a db name.", arg="db",
                           expected="a non-empty string", found="''")
    return (DBReader(db_type, db),)


no_gradient("CreateDB")
