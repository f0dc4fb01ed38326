"""ScatterWeightedSum: the sparse SGD update of embedding rows from a GradientSlice."""

from __future__ import annotations

import numpy as np

from caffe2lite.schema.checks import check_dtype, cpp_type_name, enforce
from caffe2lite.errors import DTypeError, EnforceError
from caffe2lite.schema.example import Example
from caffe2lite.schema.registry import register_cpu_operator, should_not_do_gradient

from .._dense import dispatch


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
else is checked then, as in Caffe2). The result is a new array (the stored X_0 is
never written in place), so each call copies the whole table.

Example: X_0=[[1, 1], [2, 2], [3, 3]], Weight_0=[0.5], INDICES=[2, 0, 2],
X_1=[[1, 1], [2, 2], [4, 4]], Weight_1=[1] -> X_0=[[2.5, 2.5], [2, 2], [5.75, 5.75]]""",
)
def scatter_weighted_sum(
    x0: np.ndarray, w0: np.ndarray, indices: np.ndarray, *rest: np.ndarray
) -> tuple[np.ndarray]:
    """Copy X_0, then apply Caffe2's sequential row updates with vectorised numpy."""
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
    ordered = np.sort(idx)
    if k and (ordered[0] < 0 or ordered[-1] >= n):
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
        updates.append(w * x.reshape(k, block))
    out = x0.reshape(n, block).copy()
    unique = not (ordered[1:] == ordered[:-1]).any()
    if scale != 1.0:
        if unique:
            out[idx] *= scale
        else:
            # One multiplication per occurrence, each rounded as in the C++ loop.
            rows, counts = np.unique(ordered, return_counts=True)
            for level in range(1, int(counts.max()) + 1):
                out[rows[counts >= level]] *= scale
    for upd in updates:
        if unique:
            out[idx] += upd
        else:
            np.add.at(out, idx, upd)
    return (out.reshape(x0.shape),)


should_not_do_gradient("ScatterWeightedSum")
