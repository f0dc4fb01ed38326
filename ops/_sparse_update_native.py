"""In-place sparse parameter updates: when a kernel may write into a stored array,
and the optional compiled loops that do the writing.

Caffe2 defined ScatterWeightedSum, ScatterAssign and the sparse optimizers as in place
on their parameter blobs (EnforceInplace), so that an update costs time in proportion
to the indices, never to the table. Here the workspace holds the only reference to a
blob's array (feeding and fetching copy), so a kernel may write into it when nothing
else can see that memory: ``ops/_inplace.py`` decides that (``owned``, ``writable``),
and the results are the same either way.

``pip install`` compiles ``ops/_caffe2lite_sparse_update.c`` into the module
``_caffe2lite_sparse_update`` when a C compiler is at hand. Caffe2 applies the
indices one after another (a repeated row is updated once per occurrence, each update
seeing the previous one); the compiled loops do that in one pass with no temporary
memory, where numpy needs ``ufunc.at`` on flat element indices (twice the size of
the update values) or one call per repetition level. Without the module, or with
``CAFFE2LITE_SPEEDUPS=0``, the numpy kernels run, with the same results.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._compiled import find

#: The interface this file speaks (the module's ``INTERFACE``).
INTERFACE = 2

native: Any = None  # the module, when it is usable
status = ""  # one line: which loops run, and why


def _load() -> None:
    """Set ``native`` and ``status`` from the environment and the module, if any."""
    global native, status
    native = None
    module, status = find("_caffe2lite_sparse_update", INTERFACE)
    if module is None:
        return
    native = module
    status = "compiled loops (_caffe2lite_sparse_update)"


_load()


# -- the updates ------------------------------------------------------------------------


#: The most (X, Weight) pairs the compiled ScatterWeightedSum takes (numpy beyond).
MAX_PAIRS = 64


def has_repeats(idx: np.ndarray) -> bool:
    """Whether some index occurs twice (a sort of the indices: O(k log k))."""
    if idx.size < 2:
        return False
    ordered = np.sort(idx)
    return bool((ordered[1:] == ordered[:-1]).any())


def _flat(idx: np.ndarray, block: int) -> np.ndarray:
    """The element indices of rows ``idx`` of a (n, block) table, row after row."""
    return (idx.astype(np.int64)[:, None] * block + np.arange(block)).reshape(-1)


def scatter_weighted_sum(
    rows: np.ndarray, idx: np.ndarray, scale: Any, updates: list[tuple[np.ndarray, Any]]
) -> None:
    """Caffe2's ScatterWeightedSum loops on ``rows`` ((n, block), C-contiguous,
    written in place), with every check done: each named row is multiplied by
    ``scale`` once per occurrence (not at all when scale == 1), then for each
    ``(x, weight)`` of ``updates`` in order (x of shape (k, block)), ``weight *
    x[i]`` is added to row ``idx[i]``, i in order."""
    n, block = rows.shape
    k = idx.size
    if k == 0 or block == 0:
        return
    if native is not None and rows.dtype.isnative and len(updates) <= MAX_PAIRS:
        native.scatter_weighted_sum(
            rows,
            n,
            block,
            np.ascontiguousarray(idx),
            float(scale),
            tuple(np.ascontiguousarray(x) for x, _ in updates),
            tuple(float(w) for _, w in updates),
        )
        return
    flat = rows.reshape(-1)
    if has_repeats(idx):
        elements = _flat(idx, block)
        if scale != 1:
            np.multiply.at(flat, elements, scale)  # sequential: once per occurrence
        for x, w in updates:
            np.add.at(flat, elements, (x if w == 1 else w * x).reshape(-1))
        return
    if scale != 1:
        rows[idx] *= scale
    for x, w in updates:
        rows[idx] += x if w == 1 else w * x
