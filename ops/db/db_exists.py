"""DBExists: whether a DB can be opened for reading (Caffe2's DBExistsOp)."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from caffe2lite.io.db import db_exists as _db_exists
from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient
from caffe2lite.schema.shapes import TensorShape

_MISSING = os.path.join(tempfile.gettempdir(), "caffe2lite_no_such_db.minidb")


def db_exists_shape(**kwargs) -> tuple:
    """A scalar bool."""
    return (TensorShape((), np.bool_),)


@register_cpu_operator(
    "DBExists",
    inputs=[],
    outputs=["exists"],
    num_inputs=0,
    num_outputs=1,
    args=[Arg("absolute_path", int, 0), Arg("db_name", str, ""), Arg("db_type", str, "")],
    shape=db_exists_shape,
    example=Example({}, {"exists": np.array(False)},
                    {"db_name": _MISSING, "db_type": "minidb", "absolute_path": 1}),
    doc="""Scalar bool ``exists``: True when the DB ``db_name`` of type ``db_type`` can be
opened for reading (a readable file for minidb; an existing DB folder for lmdb,
leveldb and rocksdb). A relative ``db_name`` is taken inside the workspace's root
folder unless ``absolute_path`` is set. Caffe2 answered True for a ``db_type`` it did
not know (it could not open it, but did not fail either); caffe2lite raises Caffe2's
``Cannot find db implementation of type <db_type>`` instead, and names the extra to
install for a type whose Python binding is missing.

Example: db_name='/tmp/none.minidb', db_type='minidb', absolute_path=1 -> exists=False""",
)
def db_exists(*, absolute_path, db_name, db_type, outputs) -> tuple:
    """Try the DB for reading."""
    from ._common import full_db_name

    path = full_db_name(db_name, absolute_path, outputs)
    return (np.array(_db_exists(db_type, path)),)


should_not_do_gradient("DBExists")
