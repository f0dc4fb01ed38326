"""ScatterWeightedSum: the sparse SGD update of embedding rows from a GradientSlice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema.checks import check_dtype, cpp_type_name, enforce
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from .. import _sparse_update_native as _native
from .._dense import dispatch
from .._inplace import owned, writable

if TYPE_CHECKING:
    from caffe2lite.runtime.net import OutputBlobs


def _numel_one(w: np.ndarray, blob: str, name: str, dtype: np.dtype) -> np.generic:
    check_dtype(w, blob, dtype)
    enforce(
        w.size == 1,
        f"{name}.numel() == 1. {w.size} vs 1",
        blob=blob,
        expected="a 1-element tensor",
        found=f"shape {w.shape}",
    )
    return w.reshape(-1)[0]


def _f(values) -> np.ndarray:
    return np.array(values, np.float32)


@register_cpu_operator(
    "ScatterWeightedSum",
    inputs=["X_0", "Weight_0", "INDICES", "X_1", "Weight_1"],
    outputs=["X_0"],
    num_inputs=(5, None),
    allowed_inputs=(lambda n: n % 2 == 1, "an odd number of inputs (at least 5)"),
    enforce_inplace=[(0, 0)],
    shape=lambda x0, *rest: (x0,),
    example=Example(
        {
            "X_0": _f([[1, 1], [2, 2], [3, 3]]),
            "Weight_0": _f([0.5]),
            "INDICES": np.array([2, 0, 2], np.int32),
            "X_1": _f([[1, 1], [2, 2], [4, 4]]),
            "Weight_1": _f([1]),
        },
        {"X_0": _f([[2.5, 2.5], [2, 2], [5.75, 5.75]])},
    ),
    doc="""Weighted sum on the rows of X_0 named by INDICES; the output must be X_0
itself (in place). Inputs: X_0, Weight_0, INDICES, then (X_k, Weight_k) pairs. Every
entry i of INDICES is applied on its own, in order, as in Caffe2's loop: first row
INDICES[i] of X_0 is scaled by Weight_0 (skipped when Weight_0 == 1), once per
occurrence, then every X_k[i] * Weight_k is added to it. A row named c times thus
becomes Weight_0**c * X_0[row] + sum_k Weight_k * (sum of its c slices of X_k); rows not
named keep their values. Only sizes matter: X_k holds len(INDICES) slices of
X_0.size / X_0.shape[0] elements. X_0 is float32 or float64, and the weights and the
X_k have its type; INDICES is int32 or int64. An empty X_0 is left as it is (nothing
else is checked then, as in Caffe2). The update is in place, as in Caffe2: in a
workspace, X_0's stored array is written, only the rows named, after every check has
passed (a failing op changes nothing), so the time and memory depend on INDICES,
not on the table. When something else refers to that array (another blob holding
a view of it, a profiler), or the kernel is called on its own, a copy is updated
instead, with the same result. An index outside X_0 is an error (Caffe2 checked it
only in debug builds).

Example: X_0=[[1, 1], [2, 2], [3, 3]], Weight_0=[0.5], INDICES=[2, 0, 2],
X_1=[[1, 1], [2, 2], [4, 4]], Weight_1=[1] -> X_0=[[2.5, 2.5], [2, 2], [5.75, 5.75]]""",
)
def scatter_weighted_sum(
    x0: np.ndarray,
    w0: np.ndarray,
    indices: np.ndarray,
    *rest: np.ndarray,
    outputs: OutputBlobs | None = None,
) -> tuple[np.ndarray]:
    """Caffe2's sequential row updates, in X_0's stored array when the workspace
    alone holds it (else in a copy), after every check."""
    in_place = owned(x0, outputs, 0)  # before any other name refers to x0
    dtype = dispatch(x0, "X_0")  # Caffe2 dispatched on X_0's type: float or double
    if not isinstance(indices, np.ndarray) or indices.dtype not in (np.int32, np.int64):
        found = (
            cpp_type_name(indices.dtype)
            if isinstance(indices, np.ndarray)
            else type(indices).__name__
        )
        raise DTypeError(
            f"Unsupported type of tensor: {found}",
            blob="INDICES",
            expected="int32 or int64",
            found=found,
        )
    if x0.size == 0:
        return (x0,)
    enforce(
        x0.ndim > 0,
        "X0 has to be at least the vector",
        blob="X_0",
        expected="at least 1-D",
        found=f"shape {x0.shape}",
    )
    scale = _numel_one(w0, "Weight_0", "weight0", dtype)
    n = x0.shape[0]
    block = x0.size // n
    idx = indices.reshape(-1)
    k = idx.size
    if k and (int(idx.min()) < 0 or int(idx.max()) >= n):
        first = int(idx[np.flatnonzero((idx < 0) | (idx >= n))[0]])
        raise EnforceError(
            f"Index out of bounds: {first}, range 0 to {n}",
            blob="INDICES",
            expected=f"0 <= index < {n}",
            found=first,
        )
    updates = []
    for j in range(0, len(rest), 2):
        x, blob = rest[j], f"X_{j // 2 + 1}"
        check_dtype(x, blob, dtype)
        enforce(
            x.size == block * k,
            f"X.numel() == block_size * K. {x.size} vs {block * k}",
            blob=blob,
            expected=f"{k} slices of {block} elements",
            found=f"shape {x.shape}",
        )
        w = _numel_one(rest[j + 1], f"Weight_{j // 2 + 1}", "weight", dtype)
        updates.append((x.reshape(k, block), w))
    # Every check has passed: from here on nothing can fail.
    out = writable(x0, in_place)
    _native.scatter_weighted_sum(out.reshape(n, block), idx, scale, updates)
    return (out,)


should_not_do_gradient("ScatterWeightedSum")
