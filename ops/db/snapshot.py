"""Snapshot: Caffe2's old name of Checkpoint (the same operator)."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from .checkpoint import CHECKPOINT_ARGS, DOC, EXAMPLE_PATTERN
from .save import no_outputs


@register_cpu_operator(
    "Snapshot",
    inputs=["X"],
    outputs=[],
    num_inputs=(1, None),
    num_outputs=0,
    args=CHECKPOINT_ARGS,
    shape=no_outputs,
    example=Example({"iter": np.array([3], np.int64), "W": np.array([0.5], np.float32)},
                    {}, {"db": EXAMPLE_PATTERN, "db_type": "minidb", "absolute_path": 1,
                         "every": 2}),
    doc="Caffe2's old name of Checkpoint, kept for old nets (do not use in new ones). "
    + DOC.replace("iter=[4]", "iter=[3]").replace(
        "(writes /tmp/ckpt_00004.minidb)", "(3 is not a multiple of 2: nothing written)"),
)
def snapshot(*inputs, absolute_path, strip_prefix, blob_name_overrides, db, db_type,
             chunk_size, options, every, op_def, outputs) -> tuple:
    """Checkpoint, under its old name."""
    from .checkpoint import checkpoint_kernel

    return checkpoint_kernel(*inputs, absolute_path=absolute_path,
                             strip_prefix=strip_prefix,
                             blob_name_overrides=blob_name_overrides, db=db,
                             db_type=db_type, chunk_size=chunk_size, options=options,
                             every=every,
                             op_def=op_def, outputs=outputs)


should_not_do_gradient("Snapshot")
