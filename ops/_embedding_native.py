"""The optional compiled kernels of the embedding reductions.

``pip install`` compiles ``ops/_caffe2lite_embedding.c`` into the top-level module
``_caffe2lite_embedding`` when a C compiler is at hand. It computes
SparseLengths{Sum,WeightedSum,Mean} (float16, float32 and float64 tables), their
Fused{8,4,2}BitRowwise variants and the gradients that tile the output gradient per
index in one pass, without gathering the looked-up rows. Without it (or with
``CAFFE2LITE_SPEEDUPS=0`` in the environment) the ops run their numpy kernels, which
add the same terms in the same order with the same roundings: the two give
identical arrays (``tests/ops/test_embedding_native.py`` compares them).

Each function below is the module's function or None. A compiled function returns
None when an input is not what it handles or is invalid; the op then runs its numpy
checks (which raise Caffe2's error) and, if they pass, its numpy kernel. So the
Python before the compiled call is one attribute test, and error messages are built
only on failure.
"""

from __future__ import annotations

import numpy as np

from ._compiled import find

#: The interface this file speaks (the module's ``INTERFACE``).
INTERFACE = 1

native = None  # the module, when it is usable
status = ""  # one line: which kernels run, and why

# The module's functions, or None (see the C source for their arguments).
sparse_lengths = None
fused_lookup = None
tile = None
tile_dot = None


def _adds_unfused(module) -> bool:
    """Whether the module rounds a weighted row's product before adding it (a build
    that fuses multiply-add would differ from numpy in the last bit)."""
    w = np.float32(1.0000001)
    x = np.float32(0.3)
    out = module.sparse_lengths(
        np.array([[x]], np.float32),
        np.zeros(2, np.int64),
        np.array([2], np.int32),
        np.array([w, w], np.float32),
        False,
    )
    product = np.float32(w * x)
    return out is not None and out[0, 0] == np.float32(product + product)


def _load() -> None:
    """Set ``native``, the four functions and ``status`` from the environment and
    the module, if any."""
    global native, status, sparse_lengths, fused_lookup, tile, tile_dot
    native = sparse_lengths = fused_lookup = tile = tile_dot = None
    module, status = find("_caffe2lite_embedding", INTERFACE)
    if module is None:
        return
    module.configure(np.ndarray, np.empty, np.dtype(np.float32), np.dtype(np.float64))
    if not _adds_unfused(module):
        status = (
            "numpy kernels (_caffe2lite_embedding was built with fused multiply-add)"
        )
        return
    native = module
    sparse_lengths, fused_lookup = module.sparse_lengths, module.fused_lookup
    tile, tile_dot = module.tile, module.tile_dot
    status = "compiled kernels (_caffe2lite_embedding)"


_load()
