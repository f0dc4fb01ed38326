"""ScatterAssign: overwrite rows of DATA in place (Caffe2 utility_ops)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError, ShapeError
from caffe2lite.schema.checks import cpp_type_name
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from .. import _sparse_update_native as _native
from .._inplace import owned, writable

if TYPE_CHECKING:
    from caffe2lite.runtime.net import OutputBlobs

# TensorProto.DataType numbers, as Caffe2 printed them in its type messages.
_PROTO_TYPE = {
    np.dtype(np.float32): 1,
    np.dtype(np.int32): 2,
    np.dtype(np.uint8): 3,
    np.dtype(np.int8): 4,
    np.dtype(np.uint16): 5,
    np.dtype(np.int16): 6,
    np.dtype(np.int64): 10,
    np.dtype(np.float16): 12,
    np.dtype(np.float64): 13,
    np.dtype(np.bool_): 7,
}
# Caffe2's runners: float, float16, uint8, int32, int64 data; float64 is an addition.
DATA_TYPES = (np.float32, np.float16, np.uint8, np.int32, np.int64, np.float64)


def _proto(dtype: np.dtype) -> int:
    return _PROTO_TYPE.get(np.dtype(dtype), 0)


@register_cpu_operator(
    "ScatterAssign",
    inputs=["DATA", "INDICES", "SLICES"],
    outputs=["DATA"],
    enforce_inplace=[(0, 0)],
    shape=lambda data, indices, slices: (data,),
    example=Example(
        {
            "DATA": np.array([[1, 1], [2, 2], [3, 3]], np.float32),
            "INDICES": np.array([2, 0], np.int64),
            "SLICES": np.array([[7, 8], [9, 10]], np.float32),
        },
        {"DATA": np.array([[9, 10], [2, 2], [7, 8]], np.float32)},
    ),
    doc="""Overwrite rows of DATA, in place (the output must be DATA itself): row
INDICES[i] becomes SLICES[i]. Only sizes matter: with N = DATA.shape[0], each
SLICES entry is a block of DATA.size / N elements, and SLICES holds len(INDICES)
of them. SLICES must have DATA's type (float32, float16, uint8, int32 or int64;
float64 too) and INDICES is int32 or int64; every index must lie in [0, N) (Caffe2
checked that only in debug builds). When an index repeats, the last slice wins.
In a workspace, DATA's stored array is written, only the rows named and only after
every check has passed (a failing op changes nothing), so the time depends on
INDICES, not on DATA. When something else refers to that array (another blob holding
a view of it, a profiler), or it is read-only or not contiguous, or the kernel is
called on its own, a copy is written instead, with the same result.

Example: DATA=[[1, 1], [2, 2], [3, 3]], INDICES=[2, 0], SLICES=[[7, 8], [9, 10]]
-> DATA=[[9, 10], [2, 2], [7, 8]]""",
)
def scatter_assign(data, indices, slices, *, outputs: OutputBlobs | None = None):
    """Rows of DATA overwritten by SLICES, in DATA's stored array when the workspace
    alone holds it (else in a copy), after every check."""
    in_place = owned(data, outputs, 0)  # before any other name refers to data
    for arr, name in ((data, "DATA"), (indices, "INDICES"), (slices, "SLICES")):
        if not isinstance(arr, np.ndarray):
            raise DTypeError(
                "expected a tensor",
                blob=name,
                expected="a numpy array",
                found=type(arr).__name__,
            )
    if data.dtype != slices.dtype:
        raise DTypeError(
            f"dataType == slicesType. {_proto(data.dtype)} vs {_proto(slices.dtype)}. "
            "Data and slice types must match",
            blob="SLICES",
            expected=str(data.dtype),
            found=str(slices.dtype),
        )
    if data.dtype not in DATA_TYPES or indices.dtype not in (np.int32, np.int64):
        raise DTypeError(
            "Could not find the runner corresponding to indicesType, dataType = "
            f"{_proto(indices.dtype)} {_proto(data.dtype)}",
            blob="INDICES",
            expected="int32/int64 indices and float/float16/uint8/int32/int64 data",
            found=f"{cpp_type_name(indices.dtype)} and {cpp_type_name(data.dtype)}",
        )
    if data.ndim == 0:
        raise ShapeError(
            "input.dim() > 0. 0 vs 0. X0 has to be at least the vector",
            blob="DATA",
            expected="rank >= 1",
            found="a 0-D tensor",
        )
    n, k = data.shape[0], indices.size
    block = data.size // n if n else 0
    if slices.size != block * k:
        raise ShapeError(
            f"slices.numel() == block_size * K. {slices.size} vs {block * k}",
            blob="SLICES",
            expected=f"{k} slices of {block} elements",
            found=f"shape {slices.shape}",
        )
    idx = indices.reshape(-1).astype(np.int64)
    bad = np.flatnonzero((idx < 0) | (idx >= n))
    if bad.size:
        raise EnforceError(
            f"Index out of bounds: {int(idx[bad[0]])}, range 0 to {n}",
            blob="INDICES",
            expected=f"0 <= index < {n}",
            found=int(idx[bad[0]]),
        )
    if k and block:
        # Every check has passed: from here on nothing can fail.
        out = writable(data, in_place)
        rows, values = out.reshape(n, block), slices.reshape(k, block)
        if _native.has_repeats(idx):
            last = k - 1 - np.unique(idx[::-1], return_index=True)[1]
            rows[idx[last]] = values[last]  # the last slice of a repeated row wins
        else:
            rows[idx] = values
        return (out,)
    return (data,)


should_not_do_gradient("ScatterAssign")
