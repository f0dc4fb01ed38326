"""LengthsTile: repeat each outer slice of DATA LENGTHS times (Caffe2 lengths_tile_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, register_gradient

from ._segment_kernels import expanded_shape


@register_cpu_operator(
    "LengthsTile",
    inputs=["DATA", "LENGTHS"],
    outputs=["OUTPUT"],
    shape=lambda data, lengths: (expanded_shape(data, "sum(LENGTHS)"),),
    example=Example(
        {
            "DATA": np.array(
                [[1.0, 1.2], [2.3, 3.4], [4.5, 5.7], [6.8, 7.9]], np.float32
            ),
            "LENGTHS": np.array([0, 1, 3, 2], np.int32),
        },
        {
            "OUTPUT": np.array(
                [
                    [2.3, 3.4],
                    [4.5, 5.7],
                    [4.5, 5.7],
                    [4.5, 5.7],
                    [6.8, 7.9],
                    [6.8, 7.9],
                ],
                np.float32,
            )
        },
    ),
    doc="""Duplicate each entry of the outer-most dimension of DATA (rank >= 1, any
type) LENGTHS times and concatenate them: OUTPUT has sum(LENGTHS) rows.

LENGTHS is a 1-D int32 tensor with one entry per row of DATA.

Example: DATA=[[1.0, 1.2], [2.3, 3.4], [4.5, 5.7], [6.8, 7.9]], LENGTHS=[0, 1, 3, 2]
-> OUTPUT=[[2.3, 3.4], [4.5, 5.7], [4.5, 5.7], [4.5, 5.7], [6.8, 7.9], [6.8, 7.9]]""",
)
def lengths_tile(data, lengths):
    """Row i of DATA repeated LENGTHS[i] times."""
    check_ndim(lengths, "LENGTHS", 1, "LENGTHS must be 1-D")
    if not isinstance(data, np.ndarray) or data.ndim < 1:
        raise ShapeError(
            "DATA should be at least 1-D",
            blob="DATA",
            expected="rank >= 1",
            found=f"shape {getattr(data, 'shape', ())}",
        )
    if lengths.shape[0] != data.shape[0]:
        raise EnforceError(
            "lengths.numel() == data.size(0)",
            blob="LENGTHS",
            expected=f"{data.shape[0]} lengths (DATA.shape[0])",
            found=lengths.shape[0],
        )
    check_dtype(lengths, "LENGTHS", np.int32)
    if lengths.size and int(lengths.min()) < 0:
        bad = int(np.flatnonzero(lengths < 0)[0])
        raise EnforceError(
            "length >= 0",
            blob="LENGTHS",
            expected="lengths >= 0",
            found=f"{int(lengths[bad])} at index {bad}",
        )
    return (np.repeat(data, lengths, axis=0),)


@register_gradient("LengthsTile")
def lengths_tile_gradient(g):
    """LengthsSum([dOUT, LENGTHS]) -> DATA_grad: every copy's gradient summed back."""
    return [g.op_def("LengthsSum", [g.GO(0), g.I(1)], [g.GI(0)])]
