"""GatherFused8BitRowwise (Caffe2 gather_fused_8bit_rowwise_op)."""

from __future__ import annotations

import numpy as np

from caffe2lite.errors import EnforceError, ShapeError
from caffe2lite.schema.checks import check_dtype, check_ndim
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import no_gradient, register_cpu_operator
from caffe2lite.schema.shapes import TensorShape

from ..segment._segment_checks import check_index_type
from ._rowwise import F32, split_fused


def _shape(data: TensorShape, indices: TensorShape) -> tuple[TensorShape, ...]:
    n = indices.dims[0] if indices.dims else "len(INDICES)"
    if data.dims is None or len(data.dims) != 2:
        return (TensorShape((n, "block"), np.float32),)
    cols = data.dims[1]
    width = f"{cols}-8" if isinstance(cols, str) else cols - 8
    return (TensorShape((n, width), np.float32),)


@register_cpu_operator(
    "GatherFused8BitRowwise",
    inputs=["DATA", "INDICES"],
    outputs=["OUTPUT"],
    shape=_shape,
    example=Example(
        {
            "DATA": np.array(
                [
                    [0, 2, 4, 0, 0, 0, 63, 0, 0, 128, 191],
                    [1, 2, 3, 0, 0, 128, 63, 0, 0, 0, 0],
                ],
                np.uint8,
            ),
            "INDICES": np.array([1, 0, 1], np.int32),
        },
        {
            "OUTPUT": np.array(
                [[1.0, 2.0, 3.0], [-1.0, 0.0, 1.0], [1.0, 2.0, 3.0]], np.float32
            )
        },
    ),
    doc="""Gather for a matrix of fused 8-bit rows (FloatToFused8BitRowwiseQuantized's
format), de-quantising what it gathers: OUTPUT[i] = the float32 values
(code * scale + bias) of row INDICES[i] of DATA. DATA must be a uint8 matrix with
more than 8 columns (the last 8 bytes of a row are its float32 scale and bias);
INDICES an int32 or int64 vector, each in [0, rows of DATA), else Caffe2's "Index
i is out of bounds" error. OUTPUT is float32 (len(INDICES), columns - 8): the same as
Gather on Fused8BitRowwiseQuantizedToFloat's output.

Example: DATA=[[0, 2, 4 | scale 0.5, bias -1], [1, 2, 3 | scale 1, bias 0]],
INDICES=[1, 0, 1] -> OUTPUT=[[1, 2, 3], [-1, 0, 1], [1, 2, 3]]""",
)
def gather_fused_8bit_rowwise(data, indices):
    """Rows ``indices`` of a fused 8-bit matrix, as float32."""
    check_index_type(indices)
    if not isinstance(data, np.ndarray):
        check_dtype(data, "DATA", np.uint8)  # "expected a tensor"
    check_ndim(
        data, "DATA", 2, f"data.dim() == 2. {data.ndim} vs 2. DATA must be a matrix"
    )
    check_ndim(
        indices,
        "INDICES",
        1,
        f"indices.dim() == 1. {indices.ndim} vs 1. INDICES must be a vector",
    )
    if data.shape[1] <= 8:
        raise ShapeError(
            f"data.size(1) > 8. {data.shape[1]} vs 8. DATA must have more than 8 "
            "columns",
            blob="DATA",
            expected="more than 8 columns",
            found=data.shape[1],
        )
    check_dtype(data, "DATA", np.uint8)
    rows = data.shape[0]
    bad = (indices < 0) | (indices >= rows)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise EnforceError(
            f"Index {pos} is out of bounds: {int(indices[pos])}, range 0 to {rows}",
            blob="INDICES",
            expected=f"0 <= index < {rows}",
            found=int(indices[pos]),
        )
    picked = np.take(data, indices, axis=0)
    codes, scale, bias = split_fused(picked, 8, F32)
    out = codes * scale[:, None]
    out += bias[:, None]
    return (out.astype(np.float32, copy=False),)


no_gradient("GatherFused8BitRowwise")
