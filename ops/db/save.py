"""Save: write blobs to a DB (Caffe2's SaveOp)."""

from __future__ import annotations

import os
import tempfile

import numpy as np

from caffe2lite.schema import Arg
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import save_blobs

EXAMPLE_DB = os.path.join(tempfile.gettempdir(), "caffe2lite_save_example.minidb")

SAVE_ARGS = [
    Arg("absolute_path", int, 0),
    Arg("strip_prefix", str, ""),
    Arg("blob_name_overrides", "strings", []),
    Arg("db", str, ""),
    Arg("db_type", str, ""),
    Arg("chunk_size", int, -1),
    Arg("options", bytes, b""),
]


def no_outputs(*inputs, **kwargs) -> tuple:
    """Save and Checkpoint have no outputs."""
    return ()


@register_cpu_operator(
    "Save",
    inputs=["X"],
    outputs=[],
    num_inputs=(1, None),
    num_outputs=0,
    args=SAVE_ARGS,
    shape=no_outputs,
    example=Example({"X": np.array([1.5, 2.5], np.float32)}, {},
                    {"db": EXAMPLE_DB, "db_type": "minidb", "absolute_path": 1}),
    doc="""Save every input blob to the DB ``db`` of type ``db_type`` (minidb, lmdb,
leveldb, rocksdb), replacing what was there. A relative ``db`` is taken inside the
workspace's root folder (``<root>/<db>``) unless ``absolute_path`` is set.

Each blob is stored under its input name, with everything up to and including the
first ``strip_prefix`` removed, or under the matching name of ``blob_name_overrides``
(the two are mutually exclusive). Tensors are serialized as Caffe2 did: chunks of at
most ``chunk_size`` elements (-1, the default: 1,000,000; 0: no chunking), each a
BlobProto under the key ``<name>#%<chunk index>``; string blobs as one BlobProto
under ``<name>``. The DB is written atomically: a crash leaves the old DB or the new
one. ``options`` is a serialized ``SerializationOptions``
(:class:`caffe2lite.io.blobproto.SerializationOptions`): per blob, the first entry
whose ``blob_name_regex`` matches the whole name (or is empty) sets its chunk size
and float format (FLOAT_BFLOAT16: float32 tensors as bfloat16, as Caffe2 built with
fbgemm wrote them); ``chunk_size`` applies to the blobs no entry matched. Caffe2's
checks when the op is created (``Must specify a db type.``, ``Must
specify a db name.``, ``Number of blobs and blob_name_overrides mismatch.``,
``Duplicated input: <name>`` ...) are made when it runs, before anything is written.

Example: X=[1.5, 2.5] (float32) with db='/tmp/x.minidb', db_type='minidb',
absolute_path=1 -> () (the file holds one record, key 'X#%0')""",
)
def save(*inputs, absolute_path, strip_prefix, blob_name_overrides, db, db_type,
         chunk_size, options, op_def, outputs) -> tuple:
    """Serialize the inputs under their (stripped or overridden) names and write them."""
    save_blobs(inputs, list(op_def.input), db=db, db_type=db_type,
               absolute_path=absolute_path, strip_prefix=strip_prefix,
               blob_name_overrides=blob_name_overrides, chunk_size=chunk_size,
               outputs=outputs, options=options)
    return ()


should_not_do_gradient("Save")
