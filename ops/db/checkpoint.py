"""Checkpoint: Save every ``every`` iterations to a DB named from a pattern (Caffe2's
CheckpointOp)."""

from __future__ import annotations

import json
import os
import re
import tempfile

import numpy as np

from caffe2lite.errors import ArgumentError, EnforceError
from caffe2lite.schema import Arg
from caffe2lite.schema.checks import check_dtype
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from ._common import GENERATOR_RECORD, owner, save_blobs
from .save import SAVE_ARGS, no_outputs

EXAMPLE_PATTERN = os.path.join(tempfile.gettempdir(), "caffe2lite_checkpoint_%05d.minidb")
CHECKPOINT_ARGS = SAVE_ARGS + [Arg("every", int, 1)]
_CONVERSION = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?(?:hh|h|ll|l|j|z|t|L)?[diouxX]")

DOC = """Save all the inputs (the iteration counter, input 0, included), as Save does
with the same arguments, when the iteration counter (an int64 tensor, its first
element) is a multiple of ``every`` (default 1); the DB's name is the ``db`` pattern
formatted with the iteration as C's sprintf would (``/ckpt/at_%08d.minidb``).
Otherwise it does nothing. When the op runs in a workspace whose created nets hold
random ops, the state of every op's generator is saved too, as one more string blob
``!!GENERATOR_STATES`` (JSON; Caffe2 did not save them): ``Load`` with ``load_all``
gives them back, so a run resumed from the checkpoint draws the same numbers as the
uninterrupted run (see ``Workspace.generator_states``). ``Must specify a checkpoint file pattern.`` and
``Checkpoint interval should be positive.`` are Caffe2's messages.

Example: iter=[4] (int64), W=[0.5] with db='/tmp/ckpt_%05d.minidb', db_type='minidb',
absolute_path=1, every=2 -> () (writes /tmp/ckpt_00004.minidb)"""


def format_pattern(pattern: str, iteration: int) -> str:
    """``pattern`` formatted with ``iteration`` as Caffe2's FormatString (sprintf)."""
    found = _CONVERSION.findall(pattern)
    if not found:
        return pattern.replace("%%", "%")
    spec = re.sub(r"(hh|h|ll|l|j|z|t|L)(?=[diouxX]$)", "", found[0])
    if len(found) > 1 or "%" in _CONVERSION.sub("", pattern.replace("%%", "")):
        raise ArgumentError("the db pattern may hold one integer field (%d)", arg="db",
                            expected="one %d-style field", found=repr(pattern))
    return _CONVERSION.sub(lambda m: spec % iteration, pattern, count=1).replace("%%", "%")


def checkpoint_kernel(*inputs, absolute_path, strip_prefix, blob_name_overrides, db,
                      db_type, chunk_size, options, every, op_def, outputs) -> tuple:
    """Save to ``db % iteration`` when ``iteration % every == 0``."""
    if not db:
        raise EnforceError("Must specify a checkpoint file pattern.", arg="db",
                           expected="a non-empty pattern", found="''")
    if every <= 0:
        raise EnforceError("Checkpoint interval should be positive.", arg="every",
                           expected="> 0", found=every)
    counter = inputs[0]
    check_dtype(counter, "X", np.int64)
    if counter.size < 1:
        raise EnforceError("the iteration counter is empty", blob="X",
                           expected="an int64 tensor of at least one element",
                           found=f"shape {counter.shape}")
    iteration = int(counter.reshape(-1)[0])
    if iteration % every == 0:
        ws = owner(outputs)
        states = ws.generator_states() if ws is not None else {}
        extra = ([(GENERATOR_RECORD, json.dumps(states, sort_keys=True).encode("utf-8"))]
                 if states else [])
        save_blobs(inputs, list(op_def.input), db=format_pattern(db, iteration),
                   db_type=db_type, absolute_path=absolute_path,
                   strip_prefix=strip_prefix, blob_name_overrides=blob_name_overrides,
                   chunk_size=chunk_size, outputs=outputs, options=options, extra=extra)
    return ()


checkpoint = register_cpu_operator(
    "Checkpoint",
    inputs=["X"],
    outputs=[],
    num_inputs=(1, None),
    num_outputs=0,
    args=CHECKPOINT_ARGS,
    shape=no_outputs,
    example=Example({"iter": np.array([4], np.int64), "W": np.array([0.5], np.float32)},
                    {}, {"db": EXAMPLE_PATTERN, "db_type": "minidb", "absolute_path": 1,
                         "every": 2}),
    doc=DOC,
)(checkpoint_kernel)

should_not_do_gradient("Checkpoint")
